"""Who DingTalk says the visitor is: in-client 免登 codes and browser OAuth codes.

Costs, counted in DingTalk calls with a cached app token: an in-client code is one call
(``getuserinfo``); a browser code three (V2: ``userAccessToken``, ``users/me``,
``getbyunionid``; V1: ``sns/getuserinfo_bycode``, ``getbyunionid``). The mobile for the
``dingtalk_mobile`` / ``auto_provision`` policies costs one more (``v2/user/get``) unless the
browser flow already returned it.

Failures become :class:`SignInRefused` with a ``reason`` the pages translate; the log gets the
DingTalk error class and code, never a code or token.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from dingbridge.dingtalk import (
    AuthCodeInvalid,
    DingTalkClient,
    DingTalkError,
    InvalidCredentials,
    IpNotWhitelisted,
    PermissionDenied,
    UserNotFound,
)
from dingbridge.signin.pending import DingTalkIdentity

log = logging.getLogger(__name__)

STATUS = {
    "code_invalid": 400,
    "state_invalid": 400,
    "cancelled": 400,
    "other_corp": 403,
    "member_disabled": 403,
    "member_bound_elsewhere": 409,
    "not_configured": 404,
    "dingtalk_misconfigured": 502,
    "dingtalk_unavailable": 502,
}


class SignInRefused(Exception):
    """``reason`` names the refusal; ``detail``, when given, is what to tell the visitor
    instead of the reason's usual text (a :class:`~dingbridge.i18n.Message`)."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail

    @property
    def status(self) -> int:
        return STATUS.get(self.reason, 400)


def _refusal(space_id: int, exc: DingTalkError) -> SignInRefused:
    kind = type(exc).__name__
    code = exc.effective_code or getattr(exc, "kind", "")
    if isinstance(exc, AuthCodeInvalid):
        log.info("space %d: DingTalk refused the sign-in code (%s %s)", space_id, kind, code)
        return SignInRefused("code_invalid")
    if isinstance(exc, UserNotFound):
        log.info("space %d: DingTalk user is not in the space's corp", space_id)
        return SignInRefused("other_corp")
    if isinstance(exc, InvalidCredentials | IpNotWhitelisted | PermissionDenied):
        log.error(
            "space %d: DingTalk setup problem during sign-in: %s: %s",
            space_id,
            exc,
            exc.explanation_en,
        )
        return SignInRefused("dingtalk_misconfigured")
    log.error("space %d: DingTalk call failed during sign-in: %s %s: %s", space_id, kind, code, exc)
    return SignInRefused("dingtalk_unavailable")


async def from_client_code(client: DingTalkClient, space_id: int, code: str) -> DingTalkIdentity:
    """An in-client 免登 code → the user (one DingTalk call with a cached token)."""
    assert client.corp_id is not None
    try:
        info = await client.users.from_auth_code(code)
    except DingTalkError as exc:
        raise _refusal(space_id, exc) from None
    return DingTalkIdentity(
        corp_id=client.corp_id, userid=info.userid, unionid=info.unionid, name=info.name
    )


async def from_browser_code(client: DingTalkClient, space_id: int, code: str) -> DingTalkIdentity:
    """A browser OAuth code → the user of the space's corp (refused for anyone else)."""
    assert client.corp_id is not None
    try:
        found = await client.oauth.identity_from_code(code)
    except DingTalkError as exc:
        raise _refusal(space_id, exc) from None
    if found.corp_id and found.corp_id != client.corp_id:
        log.info("space %d: browser sign-in by a user of another corp refused", space_id)
        raise SignInRefused("other_corp")
    return DingTalkIdentity(
        corp_id=client.corp_id,
        userid=found.userid,
        unionid=found.unionid,
        name=found.nick,
        mobile=found.mobile,
    )


async def with_mobile(
    client: DingTalkClient, space_id: int, identity: DingTalkIdentity
) -> DingTalkIdentity:
    """``identity`` with the mobile (and name) from the corp directory, when readable."""
    if identity.mobile:
        return identity
    try:
        detail = await client.users.get(identity.userid)
    except DingTalkError as exc:
        log.warning(
            "space %d: could not read the DingTalk profile of %s (%s); binding by SMS",
            space_id,
            identity.userid,
            type(exc).__name__,
        )
        return identity
    mobile = detail.mobile
    if mobile and detail.state_code and detail.state_code != "86":
        mobile = f"+{detail.state_code}{mobile}"
    return replace(identity, mobile=mobile, name=identity.name or detail.name)
