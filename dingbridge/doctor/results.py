"""What one doctor check found: :class:`CheckResult`, with its cause and fix as catalog
messages (:class:`dingbridge.i18n.Message`), shown in the reader's language."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dingbridge.i18n import N_, Message, translate

__all__ = ["CHECK_TITLES", "CheckResult", "Message", "Status", "sentences", "summary"]


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"


def sentences(first: Message, *more: Message) -> Message:
    """Messages one after the other: a space between them in English, none in Chinese."""
    joined = first
    for then in more:
        joined = Message("%(first)s %(then)s", first=joined, then=then)
    return joined


# id -> title, in the vendor guide's order.
CHECK_TITLES: dict[str, str] = {
    "config": N_("Settings complete"),
    "network": N_("DingTalk reachable"),
    "credentials": N_("AppKey and AppSecret valid"),
    "ip_whitelist": N_("Egress IP whitelisted"),
    "permissions": N_("Permissions granted"),
    "agent_id": N_("AgentId belongs to this app"),
    "corp_id": N_("CorpId is this app's organisation"),
    "home_url": N_("Redirect URL / home page reachable"),
    "api_version": N_("API version consistent"),
}


@dataclass(frozen=True)
class CheckResult:
    """One check. ``cause`` and ``fix`` are set when the status is fail or warn (and for
    skip, ``cause`` says why it was skipped). ``detail`` is technical (DingTalk's error code
    and message, the URL tried); ``data`` holds values other code uses, e.g. ``egress_ip``."""

    id: str
    status: Status
    cause: Message | None = None
    fix: Message | None = None
    detail: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def title_zh(self) -> str:
        return self.title("zh_CN")

    @property
    def title_en(self) -> str:
        return self.title("en")

    def title(self, language: str) -> str:
        return translate(CHECK_TITLES[self.id], language)

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "status": self.status.value,
            "cause": self.cause.as_dict() if self.cause else None,
            "fix": self.fix.as_dict() if self.fix else None,
            "detail": self.detail,
            "data": dict(self.data),
        }

    @classmethod
    def passed(cls, check_id: str, detail: str = "", **data: Any) -> CheckResult:
        return cls(check_id, Status.PASS, detail=detail, data=data)

    @classmethod
    def skipped(cls, check_id: str, cause: Message, detail: str = "") -> CheckResult:
        return cls(check_id, Status.SKIP, cause=cause, detail=detail)


def summary(statuses: Iterable[Status | str], language: str) -> str:
    """The one-line verdict on a run of checks, shown by the doctor's report and by the
    console's 测试连接 alike: every check passed, passed with N warnings, or N failed."""
    from dingbridge.i18n import translations

    seen = [Status(status) for status in statuses]
    failed, warned = seen.count(Status.FAIL), seen.count(Status.WARN)
    text = translations(language)
    if failed:
        return text.ngettext("%(count)d check failed.", "%(count)d checks failed.", failed) % {
            "count": failed
        }
    if warned:
        return text.ngettext(
            "Passed, with %(count)d warning.", "Passed, with %(count)d warnings.", warned
        ) % {"count": warned}
    return text.gettext("Every check passed.")
