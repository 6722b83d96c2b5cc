"""The doctor for stored app spaces: load a space's "钉钉授权(微应用)" settings, run the pure
checks (:func:`dingbridge.doctor.runner.run_checks`), remember the egress IP DingTalk named.

- :func:`run_connection_checks` is what the console's "测试连接 / Test connection" button calls.
- :func:`check_space` is the same with its dependencies spelled out (tests, the CLI).
- :func:`doctor_spaces` is the synchronous entry of ``dingbridge doctor``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any, Protocol

from dingbridge.dingtalk import Transport
from dingbridge.doctor.config import DoctorConfig
from dingbridge.doctor.results import CheckResult, Message, Status
from dingbridge.doctor.runner import run_checks
from dingbridge.settings import SECRET_KEY_FILE, Settings, SettingsError, secret_keys
from dingbridge.spaces.dingtalk_settings import (
    DingTalkConfig,
    any_app_secret,
    load_dingtalk,
    record_egress_ip,
    reveal_app_secret,
)
from dingbridge.spaces.secret_box import SecretBox, SecretUnreadable
from dingbridge.spaces.store import get_space, list_spaces
from dingbridge.storage.db import Database

__all__ = [
    "DoctorContext",
    "SpaceReport",
    "check_space",
    "doctor_config_for",
    "doctor_spaces",
    "run_connection_checks",
    "space_url",
]

log = logging.getLogger(__name__)


class DoctorContext(Protocol):
    """What :func:`run_connection_checks` needs from the server's ``AppContext``."""

    settings: Settings
    db: Database
    secret_box: SecretBox


@dataclass(frozen=True)
class SpaceReport:
    space_id: int
    space_name: str
    results: list[CheckResult]
    egress_ip: str | None = None
    dingtalk_enabled: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(r.failed for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "space_id": self.space_id,
            "space_name": self.space_name,
            "dingtalk_enabled": self.dingtalk_enabled,
            "ok": not self.failed,
            "egress_ip": self.egress_ip,
            "checks": [r.as_dict() for r in self.results],
        }


def space_url(base_url: str | None, space_id: int) -> str | None:
    """The space's address (home page and redirect URL), or None when the base is unknown."""
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/{space_id}/"


def doctor_config_for(
    stored: DingTalkConfig,
    box: SecretBox,
    settings: Settings,
    *,
    transport: Transport | None = None,
    site_transport: Transport | None = None,
    base_url: str | None = None,
) -> DoctorConfig:
    """The plain doctor input for one space's stored settings."""
    problems: tuple[Message, ...] = ()
    secret = ""
    if stored.has_app_secret:
        try:
            secret = reveal_app_secret(box, stored)
        except SecretUnreadable:
            problems = (
                Message(
                    "The stored AppSecret cannot be decrypted with the current secret key: "
                    "enter the AppSecret again."
                ),
            )
    return DoctorConfig(
        corp_id=stored.corp_id,
        agent_id=stored.agent_id,
        app_key=stored.app_key,
        app_secret=secret,
        api_version=stored.api_version,
        forward_url=stored.forward_url,
        forward_token=settings.forward_address_token,
        enabled=stored.enabled,
        dingtalk_api=settings.dingtalk_api,
        dingtalk_oapi=settings.dingtalk_oapi,
        dingtalk_login=settings.dingtalk_login,
        space_url=space_url(base_url or settings.external_url, stored.space_id),
        transport=transport,
        site_transport=site_transport,
        extra_problems=problems,
    )


async def check_space(
    db: Database,
    settings: Settings,
    box: SecretBox,
    space_id: int,
    *,
    transport: Transport | None = None,
    site_transport: Transport | None = None,
    base_url: str | None = None,
) -> SpaceReport:
    """Run every check for one space; the egress IP DingTalk names is saved for the console."""
    async with db.session() as session:
        space = await get_space(session, space_id)
        stored = await load_dingtalk(session, space_id)
    config = doctor_config_for(
        stored,
        box,
        settings,
        transport=transport,
        site_transport=site_transport,
        base_url=base_url,
    )
    results = await run_checks(config)
    egress_ip = next((str(r.data["egress_ip"]) for r in results if r.data.get("egress_ip")), None)
    if egress_ip:
        async with db.transaction() as session:
            await record_egress_ip(session, space_id, egress_ip)
    return SpaceReport(space_id, space.name, results, egress_ip, stored.enabled)


async def run_connection_checks(
    context: DoctorContext,
    space_id: int,
    *,
    base_url: str | None = None,
    site_transport: Transport | None = None,
) -> list[CheckResult]:
    """The console's "Test connection": every check for ``space_id``, in order.

    DingTalk calls go through the server's shared DingTalk transport (``context.signin``'s
    client registry) when there is one. ``base_url`` is the server's address as the browser
    reached it, used when ``--external-url`` is not set; ``site_transport`` reaches it
    (default: a transport of its own; tests pass the server app in-process)."""
    signin = getattr(context, "signin", None)
    clients = getattr(signin, "clients", None)
    transport: Transport | None = getattr(clients, "transport", None)
    report = await check_space(
        context.db,
        context.settings,
        context.secret_box,
        space_id,
        transport=transport,
        site_transport=site_transport,
        base_url=base_url,
    )
    return report.results


def _not_enabled(space_id: int, name: str) -> SpaceReport:
    result = CheckResult(
        "config",
        Status.SKIP,
        cause=Message("DingTalk sign-in is not turned on here."),
    )
    return SpaceReport(space_id, name, [result], dingtalk_enabled=False)


def doctor_spaces(
    settings: Settings,
    space_ids: list[int] | None = None,
    *,
    transport: Transport | None = None,
    site_transport: Transport | None = None,
) -> list[SpaceReport]:
    """``dingbridge doctor``: the given spaces (each checked even when not turned on), or every
    space with DingTalk sign-in turned on (the others are listed as skipped).

    Read-only: it creates, migrates and writes nothing (no database, no secret key); a
    database that is missing or not up to date is a :class:`DatabaseProblem`."""
    from dingbridge.storage import migrate
    from dingbridge.storage.database_check import N_, DatabaseProblem, check_database, shown_url

    url = settings.effective_database_url
    check_database(url, create=False)
    if migrate.current_revision(url) != migrate.head_revision():
        raise DatabaseProblem(
            N_("The database %(url)s is not up to date: run dingbridge db upgrade first."),
            url=shown_url(url),
        )
    try:
        keys = secret_keys(settings, create=False)
    except SettingsError:
        keys = []  # fine while no AppSecret is stored (none to read)

    async def main() -> list[SpaceReport]:
        db = Database(settings.effective_database_url)
        try:
            async with db.session() as session:
                secrets_stored = await any_app_secret(session)
            if not keys and secrets_stored:
                raise DatabaseProblem(
                    N_(
                        "There is no secret key at %(path)s, so the AppSecrets cannot be read: "
                        "give the server's data folder (--data-dir) or DINGBRIDGE_SECRET_KEY."
                    ),
                    path=str((settings.data_dir / SECRET_KEY_FILE).absolute()),
                )
            # With no key there is nothing to decrypt: a key of this run's own, never written.
            box = SecretBox(keys or [secrets.token_urlsafe(32)])
            reports: list[SpaceReport] = []
            if space_ids is None:
                async with db.session() as session:
                    summaries = await list_spaces(session)
                targets = [(s.space.id, s.space.name, s.dingtalk_enabled) for s in summaries]
            else:
                targets = [(space_id, "", True) for space_id in space_ids]
            for space_id, name, enabled in targets:
                if not enabled:
                    reports.append(_not_enabled(space_id, name))
                    continue
                reports.append(
                    await check_space(
                        db,
                        settings,
                        box,
                        space_id,
                        transport=transport,
                        site_transport=site_transport,
                    )
                )
            return reports
        finally:
            await db.dispose()

    return asyncio.run(main())
