"""Tokens, tickets and codes the simulator hands out, with their lifetimes and single use."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import Enum

from dingbridge.sim.clock import SimClock
from dingbridge.sim.settings import SimSettings


class Kind(Enum):
    APP_TOKEN = "app_token"
    JSAPI_TICKET = "jsapi_ticket"
    AUTHCODE = "authcode"  # 免登 code from requestAuthCode
    OAUTH_CODE = "oauth_code"  # browser OAuth authCode
    SNS_CODE = "sns_code"  # V1 qrconnect tmp_auth_code
    USER_TOKEN = "user_token"
    REFRESH_TOKEN = "refresh_token"


@dataclass
class Grant:
    """One credential and what it stands for."""

    kind: Kind
    value: str
    corp_id: str
    app_key: str = ""
    userid: str = ""
    created_at: float = 0.0
    expires_at: float = 0.0


class Lookup(Enum):
    VALID = "valid"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


# Expired grants are kept this long so that "expired" can be told apart from "never existed".
_KEEP_EXPIRED = 86400.0


class CredentialStore:
    def __init__(self, clock: SimClock, settings: SimSettings) -> None:
        self.clock = clock
        self.settings = settings
        self._grants: dict[str, Grant] = {}
        self._current: dict[tuple[Kind, str], str] = {}

    # --- app tokens and JSAPI tickets: one per app, the same while valid, sliding ---

    def app_token(self, app_key: str, corp_id: str) -> Grant:
        return self._sliding(Kind.APP_TOKEN, app_key, corp_id, self.settings.token_lifetime, None)

    def jsapi_ticket(self, app_key: str, corp_id: str) -> Grant:
        s = self.settings
        return self._sliding(
            Kind.JSAPI_TICKET, app_key, corp_id, s.jsapi_ticket_lifetime, s.jsapi_ticket_max_age
        )

    def current_ticket(self, app_key: str) -> Grant | None:
        value = self._current.get((Kind.JSAPI_TICKET, app_key))
        grant = self._grants.get(value or "")
        return grant if grant and grant.expires_at > self.clock.now() else None

    def _sliding(
        self, kind: Kind, app_key: str, corp_id: str, lifetime: int, max_age: int | None
    ) -> Grant:
        now = self.clock.now()
        value = self._current.get((kind, app_key))
        grant = self._grants.get(value or "")
        if grant is None or grant.expires_at <= now:
            grant = self._add(
                kind, corp_id, app_key, "", lifetime, length=16 if kind is Kind.APP_TOKEN else 40
            )
            self._current[(kind, app_key)] = grant.value
        else:
            grant.expires_at = now + lifetime
        if max_age is not None:
            grant.expires_at = min(grant.expires_at, grant.created_at + max_age)
        return grant

    # --- codes: single use ---

    def issue(self, kind: Kind, corp_id: str, userid: str, app_key: str = "") -> Grant:
        lifetimes = {
            Kind.AUTHCODE: self.settings.authcode_lifetime,
            Kind.OAUTH_CODE: self.settings.oauth_code_lifetime,
            Kind.SNS_CODE: self.settings.oauth_code_lifetime,
            Kind.USER_TOKEN: self.settings.user_token_lifetime,
            Kind.REFRESH_TOKEN: self.settings.refresh_token_lifetime,
        }
        return self._add(kind, corp_id, app_key, userid, lifetimes[kind], length=16)

    def consume(self, kind: Kind, value: str) -> Grant | None:
        """Return the grant and forget it (codes are single use); None if unknown or expired."""
        grant, state = self.lookup(kind, value)
        if grant is not None:
            del self._grants[value]
        return grant if state is Lookup.VALID else None

    def lookup(self, kind: Kind, value: str) -> tuple[Grant | None, Lookup]:
        grant = self._grants.get(value)
        if grant is None or grant.kind is not kind:
            return None, Lookup.UNKNOWN
        if grant.expires_at <= self.clock.now():
            return grant, Lookup.EXPIRED
        return grant, Lookup.VALID

    def revoke_app(self, app_key: str) -> None:
        for value in [v for v, g in self._grants.items() if g.app_key == app_key]:
            del self._grants[value]

    def _add(
        self, kind: Kind, corp_id: str, app_key: str, userid: str, lifetime: int, length: int
    ) -> Grant:
        self._forget_old()
        now = self.clock.now()
        value = secrets.token_hex(length)
        grant = Grant(kind, value, corp_id, app_key, userid, now, now + lifetime)
        self._grants[value] = grant
        return grant

    def _forget_old(self) -> None:
        if len(self._grants) < 10000:
            return
        cutoff = self.clock.now() - _KEEP_EXPIRED
        for value in [v for v, g in self._grants.items() if g.expires_at < cutoff]:
            del self._grants[value]
