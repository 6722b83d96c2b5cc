"""Members of a space: add, edit, disable, delete, list. Mobiles unique per space.

**A member's access ends in one place.** Whatever disables a member (the console, the JSON
API, the CLI, a CSV import, a DingTalk leave event, the catch-up sync), deletes one or removes
their binding calls :func:`access_ended` inside its transaction. Once that transaction has
committed, the handler the server registered for :data:`ACCESS_ENDED`
(:func:`dingbridge.signin.member_sessions.access_ended`) ends every session of the member: their
dingbridge sessions, their gate sessions, the tokens apps hold (with back-channel logout).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.errors import NotFound, ValidationFailed
from dingbridge.i18n import Message
from dingbridge.spaces import audit
from dingbridge.spaces.mobile import InvalidMobile, display_mobile, normalize_mobile
from dingbridge.spaces.store import get_space
from dingbridge.storage.db import Database
from dingbridge.storage.models import Binding, Member, utcnow

STATUSES = ("active", "disabled")
ACCESS_ENDED = "member.access_ended"
"""The :meth:`Database.note` topic of :class:`AccessEnded` items."""
DEFAULT_ROLE = "member"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class AccessEnded:
    """A member who may no longer sign in: disabled, deleted or unbound (``why``)."""

    space_id: int
    member_id: int
    actor: str
    why: str


def access_ended(
    session: AsyncSession, space_id: int, member_id: int, *, actor: str, why: str
) -> None:
    """Every session of the member ends once this transaction has committed."""
    Database.note(session, ACCESS_ENDED, AccessEnded(space_id, member_id, actor, why))


def change_status(
    session: AsyncSession,
    member: Member,
    status: str,
    *,
    actor: str,
    reason: str | None = None,
    when: datetime | None = None,
) -> bool:
    """Set the member's status; a member leaving ``active`` loses access
    (:func:`access_ended`), with when and why recorded when a ``reason`` is given (the console
    shows them). Whether the status changed."""
    if member.status == status:
        return False
    was_active = member.status == "active"
    member.status = status
    if status == "active":
        member.disabled_at = member.disabled_reason = None
    elif was_active:
        if reason:
            member.disabled_at = when or utcnow()
            member.disabled_reason = reason[:200]
        access_ended(session, member.space_id, member.id, actor=actor, why="disabled")
    return True


@dataclass(frozen=True)
class MemberInput:
    """What an admin types for a member; :func:`clean_member` checks and normalizes it."""

    name: str
    mobile: str
    email: str = ""
    role: str = ""
    status: str = "active"

    @classmethod
    def of(cls, member: Member) -> MemberInput:
        """The member as the edit form shows it (the mobile as people write it)."""
        return cls(
            name=member.name,
            mobile=display_mobile(member.mobile),
            email=member.email or "",
            role=member.role,
            status=member.status,
        )


@dataclass(frozen=True)
class CleanMember:
    name: str
    mobile: str
    email: str | None
    role: str
    status: str


def clean_member(data: MemberInput) -> CleanMember:
    """The member's fields normalized, or :class:`ValidationFailed` naming every bad field."""
    problems: dict[str, str] = {}
    name = " ".join(data.name.split())
    if not name:
        problems["name"] = Message("The name is required.")
    elif len(name) > 100:
        problems["name"] = Message("The name is longer than 100 characters.")
    mobile = ""
    try:
        mobile = normalize_mobile(data.mobile)
    except InvalidMobile as exc:
        problems["mobile"] = str(exc)
    email = data.email.strip() or None
    if email is not None and not _EMAIL.fullmatch(email):
        problems["email"] = Message("Not an email address.")
    role = data.role.strip() or DEFAULT_ROLE
    if len(role) > 64:
        problems["role"] = Message("The role is longer than 64 characters.")
    status = data.status.strip() or "active"
    if status not in STATUSES:
        problems["status"] = Message("The status must be active or disabled.")
    if problems:
        raise ValidationFailed(problems)
    return CleanMember(name=name, mobile=mobile, email=email, role=role, status=status)


def member_fields(member: Member) -> dict[str, str | None]:
    return {
        "name": member.name,
        "mobile": member.mobile,
        "email": member.email,
        "role": member.role,
        "status": member.status,
    }


async def find_by_mobile(session: AsyncSession, space_id: int, mobile: str) -> Member | None:
    return await session.scalar(
        select(Member).where(Member.space_id == space_id, Member.mobile == mobile)
    )


async def add_member(
    session: AsyncSession, space_id: int, data: MemberInput, *, actor: str
) -> Member:
    await get_space(session, space_id)
    clean = clean_member(data)
    if await find_by_mobile(session, space_id, clean.mobile) is not None:
        raise ValidationFailed(
            {"mobile": Message("Another member of this space has this mobile number.")}
        )
    member = Member(
        space_id=space_id,
        name=clean.name,
        mobile=clean.mobile,
        email=clean.email,
        role=clean.role,
        status=clean.status,
    )
    session.add(member)
    await session.flush()
    await audit.record(
        session, actor, "member.add", f"space:{space_id}/member:{member.id}", member_fields(member)
    )
    return member


async def get_member(session: AsyncSession, space_id: int, member_id: int) -> Member:
    member = await session.get(Member, member_id)
    if member is None or member.space_id != space_id:
        raise NotFound(
            Message(
                "Member %(member)s is not in space %(space)s.", member=member_id, space=space_id
            )
        )
    return member


async def get_binding(
    session: AsyncSession, space_id: int, binding_id: int
) -> tuple[Binding, Member]:
    """A binding of this space and its member; :class:`NotFound` for any other binding."""
    binding = await session.get(Binding, binding_id)
    if binding is None or binding.space_id != space_id:
        raise NotFound(
            Message(
                "Binding %(binding)s is not in space %(space)s.", binding=binding_id, space=space_id
            )
        )
    member = await session.get(Member, binding.member_id)
    assert member is not None
    return binding, member


async def edit_member(
    session: AsyncSession, space_id: int, member_id: int, data: MemberInput, *, actor: str
) -> Member:
    member = await get_member(session, space_id, member_id)
    clean = clean_member(data)
    other = await find_by_mobile(session, space_id, clean.mobile)
    if other is not None and other.id != member.id:
        raise ValidationFailed(
            {"mobile": Message("Another member of this space has this mobile number.")}
        )
    before = member_fields(member)
    member.name, member.mobile, member.email = clean.name, clean.mobile, clean.email
    member.role = clean.role
    change_status(session, member, clean.status, actor=actor)
    changes = audit.diff(before, member_fields(member))
    if changes:
        await audit.record(
            session, actor, "member.edit", f"space:{space_id}/member:{member_id}", changes
        )
    return member


async def set_member_status(
    session: AsyncSession, space_id: int, member_id: int, status: str, *, actor: str
) -> Member:
    if status not in STATUSES:
        raise ValidationFailed({"status": f"The status must be one of: {', '.join(STATUSES)}."})
    member = await get_member(session, space_id, member_id)
    if member.status != status:
        await audit.record(
            session,
            actor,
            "member.enable" if status == "active" else "member.disable",
            f"space:{space_id}/member:{member_id}",
            {"name": member.name},
        )
        change_status(session, member, status, actor=actor)
    return member


async def delete_member(
    session: AsyncSession, space_id: int, member_id: int, *, actor: str
) -> None:
    member = await get_member(session, space_id, member_id)
    await audit.record(
        session,
        actor,
        "member.delete",
        f"space:{space_id}/member:{member_id}",
        member_fields(member),
    )
    access_ended(session, space_id, member_id, actor=actor, why="deleted")
    await session.delete(member)
    await session.flush()


async def list_members(
    session: AsyncSession, space_id: int, *, search: str = "", limit: int = 500, offset: int = 0
) -> Sequence[Member]:
    query = select(Member).where(Member.space_id == space_id)
    if search.strip():
        like = f"%{search.strip()}%"
        query = query.where(Member.name.like(like) | Member.mobile.like(like))
    query = query.order_by(Member.id).limit(limit).offset(offset)
    return (await session.scalars(query)).all()


async def count_members(session: AsyncSession, space_id: int) -> int:
    total = await session.scalar(
        select(func.count()).select_from(Member).where(Member.space_id == space_id)
    )
    return int(total or 0)


async def patch_member(
    session: AsyncSession, space_id: int, member_id: int, changes: dict[str, str], *, actor: str
) -> Member:
    """Change only the fields in ``changes`` (validated as a whole, audited)."""
    member = await get_member(session, space_id, member_id)
    data = MemberInput(**{**MemberInput.of(member).__dict__, **changes})
    return await edit_member(session, space_id, member_id, data, actor=actor)
