"""What an admin enters for an app, and the checks it must pass before it is stored.

:func:`clean_app_input` returns the normalized fields or raises
:class:`~dingbridge.errors.ValidationFailed` naming every bad field at once (``name``, ``url``,
``icon``, ``kind``, ``access``, ``departments``, ``members``, ``redirect_uris``,
``post_logout_redirect_uris``, ``backchannel_logout_uri``, ``public_client``).

Redirect and logout URIs are absolute ``http``/``https`` addresses (plain http is allowed:
admins run intranet apps) with a host, no user name or password, no fragment and no wildcard.
They are stored as entered and later matched exactly, character for character.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlsplit

from dingbridge.errors import ValidationFailed
from dingbridge.storage.models import APP_ACCESS, APP_KINDS

MAX_NAME = 200
MAX_URL = 1000
MAX_URIS = 20


@dataclass(frozen=True)
class AppInput:
    """An app as an admin describes it (console form, API body or command line).

    ``departments`` are :class:`~dingbridge.storage.models.Department` row ids and ``members``
    member ids of the same space; they count only for ``access`` ``departments`` and
    ``members``. The URIs and ``public_client`` are for OIDC apps only.
    """

    name: str
    url: str
    icon: str = ""
    kind: str = "link"
    access: str = "all"
    departments: tuple[int, ...] = ()
    members: tuple[int, ...] = ()
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    backchannel_logout_uri: str = ""
    public_client: bool = False


@dataclass(frozen=True)
class CleanApp:
    name: str
    url: str
    icon: str | None
    kind: str
    access: str
    departments: tuple[int, ...]
    members: tuple[int, ...]
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    backchannel_logout_uri: str | None
    public_client: bool

    @property
    def oidc(self) -> bool:
        return self.kind == "oidc"


OIDC_FIELDS = (
    "redirect_uris",
    "post_logout_redirect_uris",
    "backchannel_logout_uri",
    "public_client",
)


def patched(current: AppInput, changes: Mapping[str, Any]) -> AppInput:
    """``current`` with ``changes`` (field → new value; lists become tuples). An app that is
    not OIDC after the change loses the OIDC fields the change does not set itself."""
    known = {f.name for f in fields(AppInput)}
    unknown = set(changes) - known
    if unknown:
        raise ValueError(f"unknown app fields: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()}
    result = replace(current, **values)
    if result.kind.strip().replace("-", "_") != "oidc":
        defaults = AppInput(name="", url="")
        dropped: dict[str, Any] = {f: getattr(defaults, f) for f in OIDC_FIELDS if f not in changes}
        result = replace(result, **dropped)
    return result


def _link_problem(value: str) -> str | None:
    """Why ``value`` is no app address (absolute http(s) or a path on this server), if not."""
    parts = urlsplit(value)
    absolute = parts.scheme in ("http", "https") and bool(parts.netloc)
    relative = value.startswith("/") and not value.startswith("//")
    if not (absolute or relative) or len(value) > MAX_URL or any(c.isspace() for c in value):
        return "Enter an http:// or https:// address, or a path starting with /."
    return None


def uri_problem(value: str) -> str | None:
    """Why ``value`` cannot be a registered redirect or logout URI, if it cannot."""
    if not value:
        return "Enter an address."
    if len(value) > MAX_URL or any(c.isspace() or not c.isprintable() for c in value):
        return "The address is too long or contains spaces."
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "Enter an absolute http:// or https:// address with a host."
    if "*" in value:
        return "Wildcards are not allowed: register each address in full."
    if "#" in value:
        return "The address may not contain a fragment (#...)."
    if parts.username is not None or parts.password is not None:
        return "The address may not contain a user name or password."
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return "The port is not a number between 0 and 65535."
    return None


def _clean_uris(values: tuple[str, ...], field: str, problems: dict[str, str]) -> list[str]:
    """Trimmed, deduplicated (in order) URIs; the first problem recorded under ``field``."""
    cleaned: list[str] = []
    for value in (v.strip() for v in values):
        if not value:
            continue
        problem = uri_problem(value)
        if problem is not None:
            problems.setdefault(field, problem)
        elif value not in cleaned:
            cleaned.append(value)
    if len(cleaned) > MAX_URIS:
        problems.setdefault(field, "At most 20 addresses.")
    return cleaned


def clean_app_input(data: AppInput) -> CleanApp:
    """The app's fields normalized, or :class:`ValidationFailed` naming every bad field.

    Does not look at the database: whether the granted departments and members belong to the
    space is checked by :mod:`dingbridge.spaces.apps`.
    """
    problems: dict[str, str] = {}
    name = " ".join(data.name.split())
    if not name or len(name) > MAX_NAME:
        problems["name"] = "A name of 1 to 200 characters is required."
    url = data.url.strip()
    if (problem := _link_problem(url)) is not None:
        problems["url"] = problem
    icon = data.icon.strip() or None
    if icon is not None and (problem := _link_problem(icon)) is not None:
        problems["icon"] = problem
    kind = data.kind.strip().replace("-", "_")
    if kind not in APP_KINDS:
        problems["kind"] = "The kind must be link, oidc or forward_auth."
    access = data.access.strip()
    departments = tuple(dict.fromkeys(data.departments))
    members = tuple(dict.fromkeys(data.members))
    if access not in APP_ACCESS:
        problems["access"] = "Who may use the app must be all, departments or members."
    elif access == "departments" and not departments:
        problems["departments"] = "Choose at least one department."
    elif access == "members" and not members:
        problems["members"] = "Choose at least one member."
    if access != "departments":
        departments = ()
    if access != "members":
        members = ()
    redirect_uris = _clean_uris(data.redirect_uris, "redirect_uris", problems)
    logout_uris = _clean_uris(data.post_logout_redirect_uris, "post_logout_redirect_uris", problems)
    backchannel = data.backchannel_logout_uri.strip() or None
    if backchannel is not None and (problem := uri_problem(backchannel)) is not None:
        problems["backchannel_logout_uri"] = problem
    if kind == "oidc":
        if not redirect_uris and "redirect_uris" not in problems:
            problems["redirect_uris"] = "An OIDC app needs at least one redirect URI."
    elif kind in APP_KINDS:
        only_oidc = "Only OIDC apps have this; leave it empty or make the app an OIDC app."
        for field, given in (
            ("redirect_uris", redirect_uris),
            ("post_logout_redirect_uris", logout_uris),
            ("backchannel_logout_uri", backchannel),
            ("public_client", data.public_client),
        ):
            if given:
                problems.setdefault(field, only_oidc)
    if problems:
        raise ValidationFailed(problems)
    return CleanApp(
        name=name,
        url=url,
        icon=icon,
        kind=kind,
        access=access,
        departments=departments,
        members=members,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=logout_uris,
        backchannel_logout_uri=backchannel,
        public_client=data.public_client,
    )
