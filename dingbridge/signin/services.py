"""The sign-in flows' shared objects, built once per server by ``create_app``.

- ``sender``: the SMS sender from ``settings.sms_config`` (a JSON or YAML file, docs/sms.md);
  without one, the console sender in development mode, otherwise a sender that refuses with
  "短信服务配置有误，请联系管理员" (binding by SMS then fails clearly, nothing else breaks).
- ``codes``: the verification-code service on the shared KV.
- ``clients``: the per-space DingTalk client registry, app tokens on the KV.
- ``keys``: the sign-in flows' keys, one per purpose (:mod:`dingbridge.keys`).
- ``spaces``: the in-process cache of what the sign-in pages read of a space, its members and
  bindings (``space_cache``), dropped on every committed change and shared through the KV.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dingbridge.dingtalk import QpsRetry
from dingbridge.dingtalk.caller import CallObserver
from dingbridge.keys import SignInKeys
from dingbridge.kv import KV
from dingbridge.settings import Settings, SettingsError
from dingbridge.signin.codes import CodeService
from dingbridge.signin.dingtalk_pacing import PacingObserver, SharedPacer
from dingbridge.signin.kv_token_store import KVTokenStore
from dingbridge.signin.sms import SmsConfigError, SmsSender, SmsSendError, create_sender
from dingbridge.signin.sms.console import ConsoleSender
from dingbridge.signin.space_cache import SpaceCache
from dingbridge.spaces.dingtalk_clients import DingTalkClients
from dingbridge.spaces.secret_box import SecretBox
from dingbridge.storage.db import Database

log = logging.getLogger(__name__)

SessionsEnded = Callable[[int, int, "str | None"], Awaitable[None]]
"""Called with ``(space_id, member_id, session_handle)`` after a member's session ended
(sign-out: that session's handle) or all of them (``None``: disabled, unbound, ended by an
admin); the OpenID provider registers one to log the member out of apps (back-channel)."""


class UnconfiguredSender:
    """Stands in when no SMS sender is configured outside development mode."""

    kind = "none"

    async def send(
        self, mobile: str, code: str, *, template_params: Mapping[str, str] | None = None
    ) -> None:
        raise SmsSendError("misconfigured", detail="no SMS sender configured (sms_config)")


def load_sms_config(path: Path) -> dict[str, Any]:
    """The sender settings in ``path``: a JSON object, or YAML with an ``sms:`` mapping or the
    mapping itself."""
    text = path.read_text("utf-8")
    data: Any
    if path.suffix.lower() == ".json":
        data = json.loads(text)
    else:
        import yaml

        data = yaml.safe_load(text)
    if isinstance(data, dict) and isinstance(data.get("sms"), dict):
        data = data["sms"]
    if not isinstance(data, dict):
        raise SettingsError([f"sms_config: {path} does not hold a mapping of sender settings"])
    return data


def build_sender(settings: Settings) -> SmsSender:
    if settings.sms_config is not None:
        try:
            return create_sender(
                load_sms_config(settings.sms_config), development=settings.development
            )
        except SmsConfigError as exc:
            raise SettingsError([f"sms_config: {p}" for p in exc.problems]) from None
    if settings.development:
        return ConsoleSender(development=True)
    log.warning("no SMS sender configured (sms_config): binding by SMS code is unavailable")
    return UnconfiguredSender()


@dataclass
class SignInServices:
    sender: SmsSender
    codes: CodeService
    clients: DingTalkClients
    keys: SignInKeys
    spaces: SpaceCache
    session_listeners: list[SessionsEnded] = field(default_factory=list)

    @property
    def outbox(self) -> ConsoleSender | None:
        """The console sender's outbox, when that is the sender."""
        return self.sender if isinstance(self.sender, ConsoleSender) else None

    @classmethod
    def build(
        cls,
        settings: Settings,
        kv: KV,
        secret_box: SecretBox,
        secret_key: str,
        db: Database,
        *,
        observer: CallObserver | None = None,
        pacing_observer: PacingObserver | None = None,
    ) -> SignInServices:
        """``observer``: given to every space's DingTalk client (the server's metrics);
        ``pacing_observer``: the pacer's waits and refusals (the metrics too)."""
        keys = SignInKeys.derive(secret_key)
        pacer = SharedPacer(
            kv,
            qps=settings.dingtalk_qps,
            egress_limit=settings.dingtalk_egress_limit,
            max_wait=settings.dingtalk_max_wait,
            observer=pacing_observer,
        )
        sender = build_sender(settings)
        return cls(
            sender=sender,
            codes=CodeService(kv, sender, keys.codes),
            clients=DingTalkClients(
                settings,
                secret_box,
                KVTokenStore(kv),
                observer=observer,
                pacer_for=pacer.for_egress,
                qps_retry=QpsRetry(patience=settings.dingtalk_max_wait),
            ),
            keys=keys,
            spaces=SpaceCache(db, kv),
        )

    async def aclose(self) -> None:
        await self.spaces.aclose()
        await self.clients.aclose()
