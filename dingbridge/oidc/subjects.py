"""Who a member is to an app: the ``sub`` and the claims of the ID token and userinfo.

``sub`` is the member's subject (:mod:`dingbridge.spaces.member_subjects`): random, stable and
unique per space member, the same value the forward-auth gate sends as
``X-Auth-Request-User``. Claims by scope: ``profile`` gives ``name``, ``preferred_username``
(the DingTalk userid) and ``dingtalk`` (``corp_id``, ``userid``, ``unionid``); ``email`` gives
``email``; ``phone`` gives ``phone_number`` (E.164, verified by SMS); ``groups`` gives
``groups`` (department names).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from dingbridge.spaces.member_subjects import member_subject
from dingbridge.storage.db import Database
from dingbridge.storage.models import Binding, Department, Member, MemberDepartment, OidcSubject

SCOPES = ("openid", "profile", "email", "phone", "groups")


@dataclass(frozen=True)
class Subject:
    """A member as the provider hands it to apps."""

    member_id: int
    space_id: int
    sub: str
    name: str
    active: bool
    email: str | None = None
    mobile: str | None = None
    corp_id: str | None = None
    userid: str | None = None
    unionid: str | None = None
    groups: tuple[str, ...] = field(default_factory=tuple)

    def claims(self, scope: str) -> dict[str, Any]:
        """The claims ``scope`` (space-separated) allows."""
        scopes = set(scope.split())
        claims: dict[str, Any] = {"sub": self.sub}
        if "profile" in scopes:
            claims["name"] = self.name
            claims["preferred_username"] = self.userid or self.sub
            if self.corp_id and self.userid:
                claims["dingtalk"] = {
                    "corp_id": self.corp_id,
                    "userid": self.userid,
                    "unionid": self.unionid,
                }
        if "email" in scopes and self.email:
            claims["email"] = self.email
        if "phone" in scopes and self.mobile:
            claims["phone_number"] = self.mobile
            claims["phone_number_verified"] = True
        if "groups" in scopes:
            claims["groups"] = list(self.groups)
        return claims


async def load_subject(db: Database, space_id: int, member_id: int) -> Subject | None:
    """The member of this space as apps see it; ``None`` if it is not (or no longer) one.

    Two queries (every token, userinfo and introspection answer reads one): the member with
    their newest binding and their subject, then their departments."""
    other = aliased(Binding)  # not correlated with the outer query's Binding
    newest_binding = (
        select(func.max(other.id)).where(other.member_id == member_id).scalar_subquery()
    )
    async with db.session() as session:
        row = (
            await session.execute(
                select(Member, Binding, OidcSubject.sub)
                .select_from(Member)
                .outerjoin(Binding, Binding.id == newest_binding)
                .outerjoin(OidcSubject, OidcSubject.member_id == Member.id)
                .where(Member.id == member_id)
            )
        ).first()
        if row is None or row[0].space_id != space_id:
            return None
        member, binding, sub = row
        groups = await session.scalars(
            select(Department.name)
            .join(MemberDepartment, MemberDepartment.department_id == Department.id)
            .where(MemberDepartment.member_id == member_id)
            .order_by(Department.name)
        )
        values = {
            "name": member.name,
            "active": member.status == "active",
            "email": member.email or None,
            "mobile": member.mobile or None,
            "groups": tuple(groups),
        }
        if binding is not None:
            values.update(corp_id=binding.corp_id, userid=binding.userid, unionid=binding.unionid)
    if sub is None:  # made on first use
        sub = await member_subject(db, member_id)
    return Subject(member_id=member_id, space_id=space_id, sub=sub, **values)  # type: ignore[arg-type]
