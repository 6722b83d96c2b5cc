"""Bindings: which member of a space a DingTalk user (corp + userid) is, and how one is made.

A binding row is (space, corp, userid, unionid → member). A DingTalk user has at most one
binding per space and corp, and a member at most one per corp (both unique in the database).

Per-space policy for a DingTalk user seen for the first time (``dingtalk_settings
.binding_policy``):

- ``sms`` (default, the vendor guide's): the user types their mobile, receives a code, enters it.
- ``dingtalk_mobile``: when DingTalk gives the user's mobile and it equals an active member's,
  bind at once; otherwise as ``sms``.
- ``auto_provision``: as ``dingtalk_mobile``, and when no member has that mobile, create one
  from the DingTalk profile (name, mobile); without a mobile from DingTalk, as ``sms``.

Every binding, unbinding and auto-created member is written to the audit log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.errors import NotFound, ValidationFailed
from dingbridge.i18n import Message
from dingbridge.signin.codes import SendResult, VerifyResult
from dingbridge.signin.pending import DingTalkIdentity, PendingBinding
from dingbridge.signin.sms import mask_mobile, space_label
from dingbridge.signin.work_notices import BINDING_MADE, BindingMade
from dingbridge.spaces import audit
from dingbridge.spaces.members import (
    MemberInput,
    access_ended,
    add_member,
    find_by_mobile,
    get_binding,
)
from dingbridge.spaces.mobile import InvalidMobile, display_mobile, normalize_mobile
from dingbridge.storage.db import Database
from dingbridge.storage.models import Binding, DingTalkSettingsRow, Member

if TYPE_CHECKING:
    from dingbridge.context import AppContext

log = logging.getLogger(__name__)

POLICIES = ("sms", "dingtalk_mobile", "auto_provision")
DEFAULT_POLICY = "sms"


class BindingRefused(Exception):
    """A binding cannot be made; ``reason``: ``member_bound_elsewhere`` (the member is bound to
    another DingTalk user of this corp) or ``member_disabled``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class BindingView:
    binding: Binding
    member: Member


async def get_policy(session: AsyncSession, space_id: int) -> str:
    row = await session.get(DingTalkSettingsRow, space_id)
    policy = row.binding_policy if row is not None else DEFAULT_POLICY
    return policy if policy in POLICIES else DEFAULT_POLICY


async def set_policy(session: AsyncSession, space_id: int, policy: str, *, actor: str) -> None:
    if policy not in POLICIES:
        raise ValidationFailed({"binding_policy": f"Choose one of: {', '.join(POLICIES)}."})
    row = await session.get(DingTalkSettingsRow, space_id)
    if row is None:
        raise NotFound("Fill the space's DingTalk settings first.")
    if row.binding_policy != policy:
        await audit.record(
            session,
            actor,
            "signin.policy",
            f"space:{space_id}",
            audit.diff({"binding_policy": row.binding_policy}, {"binding_policy": policy}),
        )
        row.binding_policy = policy


async def bound_member(
    session: AsyncSession, space_id: int, corp_id: str, userid: str
) -> Member | None:
    """The member this DingTalk user is bound to in the space, if any (any status)."""
    row = await session.execute(
        select(Member)
        .join(Binding, Binding.member_id == Member.id)
        .where(Binding.space_id == space_id, Binding.corp_id == corp_id, Binding.userid == userid)
    )
    return row.scalar_one_or_none()


async def active_member_with_mobile(
    session: AsyncSession, space_id: int, mobile: str
) -> Member | None:
    member = await find_by_mobile(session, space_id, mobile)
    return member if member is not None and member.status == "active" else None


async def bind(
    session: AsyncSession,
    space_id: int,
    identity: DingTalkIdentity,
    member: Member,
    *,
    how: str,
) -> Binding:
    """Bind ``identity`` to ``member`` (in the caller's transaction); audited.

    Already bound to this member: the existing row. :class:`BindingRefused` when the member
    is disabled or bound to another DingTalk user of the corp.
    """
    if member.status != "active":
        raise BindingRefused("member_disabled")
    existing = await session.scalar(
        select(Binding).where(Binding.member_id == member.id, Binding.corp_id == identity.corp_id)
    )
    if existing is not None:
        if existing.userid == identity.userid:
            return existing
        raise BindingRefused("member_bound_elsewhere")
    binding = Binding(
        space_id=space_id,
        corp_id=identity.corp_id,
        userid=identity.userid,
        unionid=identity.unionid,
        member_id=member.id,
    )
    try:
        async with session.begin_nested():
            session.add(binding)
            await session.flush()
    except IntegrityError:
        # The same DingTalk user was bound a moment ago (another tab or instance).
        raise BindingRefused("member_bound_elsewhere") from None
    await audit.record(
        session,
        f"dingtalk:{identity.userid}",
        "binding.create",
        f"space:{space_id}/member:{member.id}",
        {
            "corp_id": identity.corp_id,
            "userid": identity.userid,
            "member": member.name,
            "mobile": mask_mobile(member.mobile),
            "how": how,
        },
    )
    # Once this commits, the user may be told (a work notification, when the space says so).
    Database.note(session, BINDING_MADE, BindingMade(space_id, identity.userid))
    log.info(
        "space %d: DingTalk user %s bound to member %d (%s)",
        space_id,
        identity.userid,
        member.id,
        how,
    )
    return binding


def _dingtalk_mobile(identity: DingTalkIdentity) -> str | None:
    if not identity.mobile:
        return None
    try:
        return normalize_mobile(identity.mobile)
    except InvalidMobile:
        return None


@dataclass(frozen=True)
class PolicyBinding:
    """What :func:`bind_by_policy` did: ``member`` bound, or ``None`` ("ask for a mobile and a
    code"); ``result`` says why, for the metrics: ``ok``, ``provisioned`` (a member created),
    ``sms`` (the policy is SMS), ``no_mobile``, ``no_member``, ``member_disabled``,
    ``member_bound_elsewhere``."""

    member: Member | None
    result: str


async def bind_by_policy(
    session: AsyncSession, space_id: int, identity: DingTalkIdentity, policy: str
) -> PolicyBinding:
    """Bind at once when the policy allows it; no member means "ask for a mobile and a code"."""
    if policy == "sms":
        return PolicyBinding(None, "sms")
    mobile = _dingtalk_mobile(identity)
    if mobile is None:
        return PolicyBinding(None, "no_mobile")
    member = await find_by_mobile(session, space_id, mobile)
    result = "ok"
    if member is None and policy == "auto_provision":
        member = await add_member(
            session,
            space_id,
            MemberInput(name=identity.name or identity.userid, mobile=mobile),
            actor=f"dingtalk:{identity.userid}",
        )
        result = "provisioned"
    if member is None:
        return PolicyBinding(None, "no_member")
    if member.status != "active":
        return PolicyBinding(None, "member_disabled")
    try:
        await bind(session, space_id, identity, member, how=policy)
    except BindingRefused as refused:
        return PolicyBinding(None, refused.reason)
    return PolicyBinding(member, result)


async def list_bindings(session: AsyncSession, space_id: int) -> Sequence[BindingView]:
    rows = await session.execute(
        select(Binding, Member)
        .join(Member, Member.id == Binding.member_id)
        .where(Binding.space_id == space_id)
        .order_by(Binding.id)
    )
    return [BindingView(b, m) for b, m in rows.all()]


async def unbind(session: AsyncSession, space_id: int, binding_id: int, *, actor: str) -> Member:
    """Delete a binding (the member signs in again only after binding anew); audited."""
    binding, member = await get_binding(session, space_id, binding_id)
    await audit.record(
        session,
        actor,
        "binding.delete",
        f"space:{space_id}/member:{member.id}",
        {"corp_id": binding.corp_id, "userid": binding.userid, "member": member.name},
    )
    await session.delete(binding)
    await session.flush()
    access_ended(session, space_id, member.id, actor=actor, why="unbound")
    return member


async def send_binding_code(
    context: AppContext, space_id: int, mobile: str, client_ip: str
) -> SendResult:
    """Step one of binding by SMS: a code to ``mobile`` when it is an active member's; for
    any other number the same steps and counts with nothing sent (``deliver=False`` of
    :meth:`CodeService.send`), so the answers never tell who is a member.
    :class:`SmsSendError` when the sender fails."""
    async with context.db.session() as session:
        member = await active_member_with_mobile(session, space_id, mobile)
    number = display_mobile(mobile)
    space = await context.signin.spaces.space(space_id)
    return await context.signin.codes.send(
        space_id,
        number,
        client_ip,
        deliver=member is not None,
        space_label=space_label(space.name, space_id),
    )


async def verify_binding_code(
    context: AppContext, space_id: int, pending: PendingBinding, code: str
) -> tuple[VerifyResult, int | None]:
    """Step two: the code typed for ``pending.mobile``, and the member it proves (``None``
    unless the result is ``ok``). A number of no active member has a code no one was told
    (see :func:`send_binding_code`): its tries, expiry and answers are a member's."""
    assert pending.mobile
    async with context.db.session() as session:
        member = await active_member_with_mobile(session, space_id, pending.mobile)
    result = await context.signin.codes.verify(space_id, display_mobile(pending.mobile), code)
    return result, (member.id if result.ok and member is not None else None)


async def bind_by_sms(
    context: AppContext,
    space_id: int,
    identity: DingTalkIdentity,
    member_id: int,
    proof: VerifyResult | None = None,
) -> Member:
    """Step three: bind the DingTalk user to the member whose mobile they proved (audited);
    :class:`BindingRefused` when the binding cannot be made. When the database fails, the
    code that was the ``proof`` works again (a retry needs no new code, no cool-down)."""
    try:
        async with context.db.transaction() as session:
            member = await session.get(Member, member_id)
            if member is None or member.space_id != space_id:
                raise NotFound(
                    Message(
                        "Member %(member)s is not in space %(space)s.",
                        member=member_id,
                        space=space_id,
                    )
                )
            await bind(session, space_id, identity, member, how="sms")
    except (BindingRefused, NotFound):
        raise
    except Exception:
        if proof is not None:
            await context.signin.codes.reinstate(proof)
        raise
    return member
