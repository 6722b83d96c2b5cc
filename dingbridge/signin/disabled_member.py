"""What a disabled member is told when they try to sign in: which app space, since when, who
disabled them and so whom to ask — the administrator who did it (from the audit log), or the
company's DingTalk administrator when the directory says they left."""

from __future__ import annotations

from datetime import UTC

from dingbridge.context import AppContext
from dingbridge.i18n import Message
from dingbridge.signin.sms import space_label
from dingbridge.spaces import audit
from dingbridge.storage.models import AuditEntry, Member

LEFT_DINGTALK = "left the company in DingTalk"


def _disabling(entry: AuditEntry) -> bool:
    if entry.action in ("member.disable", "member.left_dingtalk"):
        return True
    status = (entry.details or {}).get("status")
    return (
        entry.action == "member.edit"
        and isinstance(status, dict)
        and (status.get("new") == "disabled")
    )


async def disabled_message(
    context: AppContext, space_id: int, space_name: str, member_id: int
) -> Message:
    """Why ``member_id`` cannot sign in to the space, and whom to ask."""
    space = space_label(space_name, space_id)
    async with context.db.session() as session:
        member = await session.get(Member, member_id)
        entries = await audit.recent(
            session, limit=50, target=f"space:{space_id}/member:{member_id}"
        )
    last = next((entry for entry in entries if _disabling(entry)), None)
    reason = (member.disabled_reason or "") if member is not None else ""
    if reason.startswith(LEFT_DINGTALK) or (
        last is not None and last.action == "member.left_dingtalk"
    ):
        return Message(
            "Your account in the app space %(space)s was disabled because your company's "
            "DingTalk directory shows that you have left. If that is a mistake, ask your "
            "company's DingTalk administrator to correct the directory.",
            space=space,
        )
    if last is not None and last.actor.startswith("admin:"):
        admin = last.actor.removeprefix("admin:")
        moment = last.time if last.time.tzinfo else last.time.replace(tzinfo=UTC)
        day = moment.astimezone(context.settings.tzinfo).strftime("%Y-%m-%d")
        return Message(
            "Your account in the app space %(space)s was disabled by the administrator "
            "%(admin)s on %(day)s. Ask %(admin)s to enable it again.",
            space=space,
            admin=admin,
            day=day,
        )
    return Message(
        "Your account in the app space %(space)s is disabled. Ask the administrator of this "
        "app space to enable it again, naming the app space %(space)s.",
        space=space,
    )
