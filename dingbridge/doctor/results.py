"""What one doctor check found: :class:`CheckResult`, with its cause and fix in two languages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["CHECK_TITLES", "CheckResult", "Status", "Text", "summary"]


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"


@dataclass(frozen=True)
class Text:
    """One message in the admin's words, zh-CN and English."""

    zh: str
    en: str

    def in_language(self, language: str) -> str:
        return self.en if language.startswith("en") else self.zh

    def as_dict(self) -> dict[str, str]:
        return {"zh_CN": self.zh, "en": self.en}

    def __add__(self, other: Text) -> Text:
        return Text(self.zh + other.zh, self.en + " " + other.en)


# id -> (zh-CN title, English title), in the vendor guide's order.
CHECK_TITLES: dict[str, tuple[str, str]] = {
    "config": ("配置完整", "Settings complete"),
    "network": ("网络可达", "DingTalk reachable"),
    "credentials": ("凭证有效", "AppKey and AppSecret valid"),
    "ip_whitelist": ("出口IP白名单", "Egress IP whitelisted"),
    "permissions": ("权限", "Permissions granted"),
    "agent_id": ("AgentId 属于此应用", "AgentId belongs to this app"),
    "corp_id": ("CorpId 属于此应用的企业", "CorpId is this app's organisation"),
    "home_url": ("重定向URL/首页地址可达", "Redirect URL / home page reachable"),
    "api_version": ("接口版本一致", "API version consistent"),
}


@dataclass(frozen=True)
class CheckResult:
    """One check. ``cause`` and ``fix`` are set when the status is fail or warn (and for
    skip, ``cause`` says why it was skipped). ``detail`` is technical (DingTalk's error code
    and message, the URL tried); ``data`` holds values other code uses, e.g. ``egress_ip``."""

    id: str
    status: Status
    cause: Text | None = None
    fix: Text | None = None
    detail: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def title_zh(self) -> str:
        return CHECK_TITLES[self.id][0]

    @property
    def title_en(self) -> str:
        return CHECK_TITLES[self.id][1]

    def title(self, language: str) -> str:
        return self.title_en if language.startswith("en") else self.title_zh

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
    def skipped(cls, check_id: str, cause: Text, detail: str = "") -> CheckResult:
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
