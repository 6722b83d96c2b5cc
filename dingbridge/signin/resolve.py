"""Who a DingTalk user is in a space: a bound member to sign in, or a binding still to make.

The one decision every sign-in flow (in-client, browser OAuth, the OIDC authorize step) makes
after DingTalk has said who the visitor is.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dingbridge.dingtalk import DingTalkClient
from dingbridge.signin.binding_flow import bind_by_policy
from dingbridge.signin.disabled_member import disabled_message
from dingbridge.signin.identity import SignInRefused
from dingbridge.signin.pending import DingTalkIdentity, PendingBinding, PendingBindings
from dingbridge.signin.space_cache import SpaceView
from dingbridge.spaces.dingtalk_clients import DingTalkNotConfigured
from dingbridge.spaces.dingtalk_settings import DingTalkConfig

if TYPE_CHECKING:
    from dingbridge.context import AppContext

log = logging.getLogger(__name__)

MobileLookup = Callable[[DingTalkIdentity], Awaitable[DingTalkIdentity]]
"""An async function giving the identity with its DingTalk mobile (one more DingTalk call)."""


@dataclass(frozen=True)
class Resolved:
    """Who a DingTalk user is in the space: a bound member, or a binding still to make."""

    identity: DingTalkIdentity
    member_id: int | None = None
    pending_token: str | None = None

    @property
    def result(self) -> str:
        """The sign-in metric's result: signed in, or a binding to make first."""
        return "ok" if self.member_id is not None else "bind_needed"


async def resolve(
    context: AppContext,
    space: SpaceView,
    identity: DingTalkIdentity,
    next_path: str,
    *,
    mobile_lookup: MobileLookup | None = None,
) -> Resolved:
    """Bound → the member to sign in; not yet → a pending binding's token.

    :class:`SignInRefused` for a disabled member. ``mobile_lookup`` is called only when the
    policy needs the mobile. A returning user's binding comes from the space cache: no
    database access.
    """
    space_id = space.id
    member_id: int | None = None
    member = await context.signin.spaces.bound_member(space_id, identity.corp_id, identity.userid)
    if member is not None:
        if not member.active:
            log.info("space %d: disabled member %d refused", space_id, member.id)
            detail = await disabled_message(context, space_id, space.name, member.id)
            raise SignInRefused("member_disabled", detail)
        member_id = member.id
    elif space.binding_policy != "sms":
        if mobile_lookup is not None:
            identity = await mobile_lookup(identity)
        async with context.db.transaction() as session:
            bound = await bind_by_policy(session, space_id, identity, space.binding_policy)
            member_id = bound.member.id if bound.member is not None else None
        context.metrics.binding(space.binding_policy, bound.result)  # after the commit
    if member_id is not None:
        return Resolved(identity, member_id=member_id)
    token = await PendingBindings(context.kv).start(
        PendingBinding(space_id=space_id, identity=identity, next_path=next_path)
    )
    return Resolved(identity, pending_token=token)


def client_for(context: AppContext, config: DingTalkConfig) -> DingTalkClient:
    """The space's DingTalk client; :class:`SignInRefused` ("not_configured") without one."""
    try:
        return context.signin.clients.for_space(config)
    except DingTalkNotConfigured:
        raise SignInRefused("not_configured") from None
