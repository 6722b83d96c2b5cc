"""Times as pages show them: in the server's time zone (``Settings.tzinfo``), the zone named.

One template filter, ``local_time``, renders every time of the console and the member pages:
``{{ member.disabled_at | local_time }}`` gives ``<time datetime="…">2026-03-01 17:05 CST</time>``
(the zone's abbreviation, or its UTC offset when it has none; the full zone name in ``title``).
Times from the database without a zone are UTC (SQLite keeps none); the ``"… UTC"`` strings of
the connection test and the directory import are read as UTC too.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from markupsafe import Markup


def as_datetime(value: datetime | str | float) -> datetime:
    """An aware datetime from a datetime (naive: UTC), a Unix time or an ISO-like string."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.removesuffix(" UTC").strip())
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def zone_label(moment: datetime) -> str:
    """``CST``, ``UTC``, or ``UTC+05:45`` when the zone has no abbreviation."""
    name = moment.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_name(zone: tzinfo) -> str:
    """``Asia/Shanghai`` for a named zone, else the zone's abbreviation."""
    if isinstance(zone, ZoneInfo):
        return zone.key
    return datetime.now(zone).tzname() or "UTC"


def shown_time(value: datetime | str | float, zone: tzinfo, *, seconds: bool = False) -> str:
    """``2026-03-01 17:05 CST``: ``value`` in ``zone``, the zone named."""
    moment = as_datetime(value).astimezone(zone)
    text = moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{text} {zone_label(moment)}"


def time_element(
    value: datetime | str | float | None, zone: tzinfo, *, seconds: bool = False
) -> Markup:
    """The ``local_time`` filter: a ``<time>`` element (empty for ``None``)."""
    if value is None or value == "":
        return Markup("")
    moment = as_datetime(value)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        moment.astimezone(UTC).isoformat(timespec="seconds"),
        zone_name(zone),
        shown_time(moment, zone, seconds=seconds),
    )
