"""A space's "钉钉授权(微应用)" settings: validated shapes, AppSecret encrypted at rest.

Read them per request with :func:`load_dingtalk` (no cache), so a saved change applies at once
on every instance. The AppSecret leaves this module only through :func:`reveal_app_secret`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.dingtalk.identifiers import is_agent_id, is_app_key, is_corp_id
from dingbridge.errors import ValidationFailed
from dingbridge.i18n import Message
from dingbridge.spaces import audit
from dingbridge.spaces.secret_box import SecretBox
from dingbridge.spaces.store import get_space
from dingbridge.storage.models import DingTalkSettingsRow

API_VERSIONS = ("v2", "v1")
API_PREFIX = "/api-dingtalk-com/"
OAPI_PREFIX = "/oapi-dingtalk-com/"


@dataclass(frozen=True)
class DingTalkInput:
    """The form as the admin filled it. ``app_secret`` empty means "keep the stored one"."""

    enabled: bool
    corp_name: str
    corp_id: str
    agent_id: str
    app_key: str
    app_secret: str = ""
    api_version: str = "v2"
    forward_url: str = ""

    @classmethod
    def of(cls, config: DingTalkConfig) -> DingTalkInput:
        """The saved settings as the form shows them (the AppSecret kept: left empty)."""
        return cls(
            enabled=config.enabled,
            corp_name=config.corp_name,
            corp_id=config.corp_id,
            agent_id=config.agent_id,
            app_key=config.app_key,
            api_version=config.api_version,
            forward_url=config.forward_url or "",
        )


@dataclass(frozen=True)
class DingTalkConfig:
    """A space's saved settings, without the secret (``has_app_secret`` says if one is set)."""

    space_id: int
    enabled: bool
    corp_name: str
    corp_id: str
    agent_id: str
    app_key: str
    api_version: str
    forward_url: str | None
    egress_ip_seen: str | None
    has_app_secret: bool
    updated_at: datetime | None
    _app_secret_encrypted: str | None = field(default=None, repr=False)

    def public_fields(self) -> dict[str, object]:
        fields = asdict(self)
        fields.pop("_app_secret_encrypted")
        return fields


def _config(row: DingTalkSettingsRow) -> DingTalkConfig:
    return DingTalkConfig(
        space_id=row.space_id,
        enabled=row.enabled,
        corp_name=row.corp_name,
        corp_id=row.corp_id,
        agent_id=row.agent_id,
        app_key=row.app_key,
        api_version=row.api_version,
        forward_url=row.forward_url,
        egress_ip_seen=row.egress_ip_seen,
        has_app_secret=bool(row.app_secret_encrypted),
        updated_at=row.updated_at,
        _app_secret_encrypted=row.app_secret_encrypted,
    )


def empty_config(space_id: int) -> DingTalkConfig:
    return DingTalkConfig(space_id, False, "", "", "", "", "v2", None, None, False, None)


def reveal_app_secret(box: SecretBox, config: DingTalkConfig) -> str:
    """The plaintext AppSecret, for calling DingTalk; never show or log it."""
    if not config._app_secret_encrypted:
        raise ValueError(f"space {config.space_id} has no AppSecret")
    return box.decrypt(config._app_secret_encrypted)


class ForwardAddressInvalid(ValueError):
    """A malformed forward address; ``message`` says what is wrong, in the reader's language."""

    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.message = message


def normalize_forward_url(raw: str) -> str | None:
    """The forward address in canonical form, ``None`` when blank; ValueError when malformed."""
    value = raw.strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ForwardAddressInvalid(
            Message(
                "The forward address must be an http:// or https:// address, e.g. %(example)s",
                example="http://203.0.113.5:888" + API_PREFIX,
            )
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ForwardAddressInvalid(
            Message("The forward address must not contain a query, a fragment or a user name.")
        )
    try:
        _ = parts.port
    except ValueError:
        raise ForwardAddressInvalid(
            Message("The port of the forward address is not a number from 1 to 65535.")
        ) from None
    path = parts.path or "/"
    if not path.endswith("/"):
        path += "/"
    if path != "/" and not (path.endswith(API_PREFIX) or path.endswith(OAPI_PREFIX)):
        raise ForwardAddressInvalid(
            Message(
                "The path of the forward address must end with %(api)s or %(oapi)s (or be "
                "empty, for the forwarder's root), e.g. %(example)s",
                api=API_PREFIX,
                oapi=OAPI_PREFIX,
                example="http://203.0.113.5:888" + API_PREFIX,
            )
        )
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def dingtalk_bases(forward_url: str | None, api_host: str, oapi_host: str) -> tuple[str, str]:
    """The (api, oapi) base URLs a space's calls go to.

    Blank forward address: the configured DingTalk hosts. ``.../api-dingtalk-com/`` or
    ``.../oapi-dingtalk-com/``: that one, and its sibling for the other family. A root address:
    both prefixes under it.
    """
    if not forward_url:
        return api_host.rstrip("/") + "/", oapi_host.rstrip("/") + "/"
    if forward_url.endswith(API_PREFIX):
        root = forward_url[: -len(API_PREFIX)]
    elif forward_url.endswith(OAPI_PREFIX):
        root = forward_url[: -len(OAPI_PREFIX)]
    else:
        root = forward_url.rstrip("/")
    return root + API_PREFIX, root + OAPI_PREFIX


def validate_input(data: DingTalkInput, *, has_stored_secret: bool) -> dict[str, str]:
    """Every problem with the form, by field name."""
    problems: dict[str, str] = {}
    if len(data.corp_name.strip()) > 200:
        problems["corp_name"] = Message("The company name is longer than 200 characters.")
    corp_id, agent_id, app_key = data.corp_id.strip(), data.agent_id.strip(), data.app_key.strip()
    if corp_id and not is_corp_id(corp_id):
        problems["corp_id"] = Message("A CorpId starts with 'ding' followed by letters and digits.")
    if agent_id and not is_agent_id(agent_id):
        problems["agent_id"] = Message("The AgentId is a number (digits only).")
    if app_key and not is_app_key(app_key):
        problems["app_key"] = Message("The AppKey has letters, digits, '-' or '_' only.")
    secret = data.app_secret.strip()
    if secret and (len(secret) > 200 or any(c.isspace() for c in secret)):
        problems["app_secret"] = Message("The AppSecret must be one word without spaces.")
    if data.api_version not in API_VERSIONS:
        problems["api_version"] = Message("Choose V2 (new apps) or V1 (legacy apps).")
    try:
        normalize_forward_url(data.forward_url)
    except ForwardAddressInvalid as exc:
        problems["forward_url"] = exc.message
    if data.enabled:
        required = {"corp_id": corp_id, "agent_id": agent_id, "app_key": app_key}
        for name, value in required.items():
            if not value:
                problems.setdefault(name, Message("Required to turn DingTalk sign-in on."))
        if not secret and not has_stored_secret:
            problems.setdefault("app_secret", Message("Required to turn DingTalk sign-in on."))
    return problems


async def any_app_secret(session: AsyncSession) -> bool:
    """Whether any space has an AppSecret stored (so a secret key is needed to read it)."""
    found = await session.scalar(
        select(DingTalkSettingsRow.space_id)
        .where(DingTalkSettingsRow.app_secret_encrypted.is_not(None))
        .limit(1)
    )
    return found is not None


async def load_dingtalk(session: AsyncSession, space_id: int) -> DingTalkConfig:
    row = await session.get(DingTalkSettingsRow, space_id)
    return _config(row) if row is not None else empty_config(space_id)


async def save_dingtalk(
    session: AsyncSession, box: SecretBox, space_id: int, data: DingTalkInput, *, actor: str
) -> DingTalkConfig:
    """Validate and save; the audit entry lists changed fields with the AppSecret masked."""
    await get_space(session, space_id)
    row = await session.get(DingTalkSettingsRow, space_id)
    problems = validate_input(data, has_stored_secret=bool(row and row.app_secret_encrypted))
    if problems:
        raise ValidationFailed(problems)
    if row is None:
        row = DingTalkSettingsRow(space_id=space_id, enabled=False, api_version="v2")
        session.add(row)
        before: dict[str, object] = {}
    else:
        before = _audited(row)
    row.enabled = data.enabled
    row.corp_name = data.corp_name.strip()
    row.corp_id = data.corp_id.strip()
    row.agent_id = data.agent_id.strip()
    row.app_key = data.app_key.strip()
    row.api_version = data.api_version
    row.forward_url = normalize_forward_url(data.forward_url)
    secret = data.app_secret.strip()
    changes = audit.diff(before, _audited(row))
    changes.pop("has_app_secret", None)  # the app_secret entry below tells the story
    if secret:
        row.app_secret_encrypted = box.encrypt(secret)
        changes["app_secret"] = {
            "old": "(set)" if before.get("has_app_secret") else None,
            "new": "(replaced)",
        }
    await session.flush()
    if changes:
        await audit.record(session, actor, "dingtalk.update", f"space:{space_id}", changes)
    return _config(row)


async def patch_dingtalk(
    session: AsyncSession,
    box: SecretBox,
    space_id: int,
    changes: Mapping[str, object],
    *,
    actor: str,
) -> DingTalkConfig:
    """Change only the fields in ``changes``; every other field keeps its saved value.

    A field is cleared only when ``changes`` names it with an empty value (``""``). The result
    is validated as a whole, like the form, and audited by :func:`save_dingtalk`.
    """
    kinds = {f.name: bool if f.name == "enabled" else str for f in fields(DingTalkInput)}
    wrong = sorted(k for k, v in changes.items() if k not in kinds or type(v) is not kinds[k])
    if wrong:
        raise ValueError(f"not DingTalk settings or of the wrong type: {', '.join(wrong)}")
    values: dict[str, Any] = dict(changes)
    await get_space(session, space_id)
    current = DingTalkInput.of(await load_dingtalk(session, space_id))
    return await save_dingtalk(session, box, space_id, replace(current, **values), actor=actor)


def _audited(row: DingTalkSettingsRow) -> dict[str, object]:
    return {
        "enabled": row.enabled,
        "corp_name": row.corp_name,
        "corp_id": row.corp_id,
        "agent_id": row.agent_id,
        "app_key": row.app_key,
        "api_version": row.api_version,
        "forward_url": row.forward_url,
        "has_app_secret": bool(row.app_secret_encrypted),
    }


async def record_egress_ip(session: AsyncSession, space_id: int, ip: str) -> None:
    """Remember the egress IP DingTalk reported (from its 60020 error) for the paste panel."""
    row = await session.get(DingTalkSettingsRow, space_id)
    if row is not None and row.egress_ip_seen != ip:
        row.egress_ip_seen = ip


async def reencrypt_all(session: AsyncSession, box: SecretBox) -> int:
    """Re-encrypt every stored AppSecret with the box's current key; returns how many."""
    rows = (
        await session.scalars(
            select(DingTalkSettingsRow).where(DingTalkSettingsRow.app_secret_encrypted.is_not(None))
        )
    ).all()
    for row in rows:
        assert row.app_secret_encrypted is not None
        row.app_secret_encrypted = box.reencrypt(row.app_secret_encrypted)
    await session.flush()
    return len(rows)
