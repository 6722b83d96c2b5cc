"""Check 5 (权限): each permission the sign-in flows and the directory import need, proven by a
harmless read whose answer differs when the permission is missing (60011 on oapi, 403
``AccessTokenPermissionDenied`` on api), and the 企业员工手机号信息 field permission, proven by
reading one real member and finding ``mobile`` in the answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from dingbridge.dingtalk import (
    DingTalkError,
    PermissionDenied,
    ServerBusy,
    TokenInvalid,
    TransportError,
    UserDetail,
)
from dingbridge.dingtalk.permissions import PERMISSION_NAMES
from dingbridge.doctor.checks_app import PROBE_CODE
from dingbridge.doctor.probe import Probe, describe
from dingbridge.doctor.results import CheckResult, Message, Status
from dingbridge.i18n import N_, translate

__all__ = ["MOBILE_FIELD", "check_permissions", "needed_permissions"]

MOBILE_FIELD = "企业员工手机号信息"
PROBE_USERID = "dingbridge-doctor-probe"
PROBE_UNIONID = "dingbridgeDoctorProbeiEiE"


@dataclass(frozen=True)
class Needed:
    code: str
    why: str  # a catalog id (N_), translated where shown

    @property
    def why_zh(self) -> str:
        return translate(self.why, "zh_CN")

    @property
    def why_en(self) -> str:
        return self.why


def needed_permissions(api_version: str) -> list[Needed]:
    """What a space's app must be granted, by the console's permission code."""
    needed = [
        Needed("qyapi_base", N_("in-DingTalk sign-in")),
        Needed("qyapi_get_member", N_("member profile, browser sign-in")),
        Needed("qyapi_get_department_list", N_("directory import")),
        Needed("qyapi_get_department_member", N_("directory import")),
    ]
    if api_version == "v2":
        needed += [
            Needed("open_app_api_base", N_("browser sign-in (V2)")),
            Needed("Contact.User.Read", N_("browser sign-in (V2)")),
        ]
    return needed


Read = Callable[[], Awaitable[object]]


def _reads(probe: Probe) -> dict[str, Read]:
    client = probe.client

    async def user_token_permission() -> object:
        return await client.oauth.user_access_token(PROBE_CODE)

    async def contact_user_read() -> object:
        token = await client.tokens.app_token()
        return await client.oauth.users_me(token, union_id=PROBE_UNIONID)

    async def member_read() -> object:
        await client.users.get(PROBE_USERID)
        return await client.users.getbyunionid(PROBE_UNIONID)

    return {
        "qyapi_base": lambda: client.users.from_auth_code(PROBE_CODE),
        "qyapi_get_member": member_read,
        "qyapi_get_department_list": lambda: client.contacts.listsub(1),
        "qyapi_get_department_member": lambda: _first_member(probe),
        "open_app_api_base": user_token_permission,
        "Contact.User.Read": contact_user_read,
    }


async def _first_member(probe: Probe) -> UserDetail | None:
    """One real member of the root department (``v2/user/list`` size 1), or None if empty."""
    path = "/topapi/v2/user/list"
    data = await probe.client.caller.oapi(
        "POST", path, json_body={"dept_id": 1, "cursor": 0, "size": 1}
    )
    result = data.get("result")
    items = result.get("list") if isinstance(result, dict) else None
    if not isinstance(items, list) or not items or not isinstance(items[0], dict):
        return None
    return UserDetail.from_result(items[0], path)


async def _sample_member(probe: Probe, granted: set[str]) -> UserDetail | None:
    if "qyapi_get_department_member" in granted:
        member = await _first_member(probe)
        if member is not None:
            return member
    if "qyapi_get_member" in granted:  # listid + user/get, for apps without the list permission
        userids = await probe.client.contacts.listid(1)
        if userids:
            return await probe.client.users.get(userids[0])
    return None


def _listed(separator: str, prefix: str, items: list[Message]) -> Message:
    """``items`` one after another, each translated in the reader's language."""
    template = separator.join(f"{prefix}%(i{i})s" for i in range(len(items)))
    values = {f"i{i}": item for i, item in enumerate(items)}
    return Message(template, **values)


def _label(code: str) -> str:
    name = PERMISSION_NAMES.get(code)
    return f"{name}（{code}）" if name else code


async def check_permissions(probe: Probe) -> CheckResult:
    version = probe.client.api_version
    reads = _reads(probe)
    missing: list[Needed] = []
    granted: set[str] = set()
    unverified: list[str] = []
    details: list[str] = []
    for need in needed_permissions(version):
        try:
            await reads[need.code]()
        except PermissionDenied as exc:
            missing.append(need)
            details.append(f"{need.code}: {describe(exc)}")
            continue
        except (TransportError, ServerBusy) as exc:
            return CheckResult(
                "permissions",
                Status.WARN,
                cause=Message(
                    "DingTalk did not answer while checking %(permission)s; try again later.",
                    permission=_label(need.code),
                ),
                fix=Message("Check again later."),
                detail=describe(exc),
            )
        except TokenInvalid as exc:
            # e.g. an endpoint that takes only a user's token: the read proves nothing.
            unverified.append(need.code)
            details.append(f"{need.code}: not verifiable ({describe(exc)})")
            continue
        except DingTalkError as exc:
            details.append(f"{need.code}: granted ({exc.effective_code})")
        else:
            details.append(f"{need.code}: granted")
        granted.add(need.code)
    mobile_missing = False
    try:
        sample = await _sample_member(probe, granted)
    except DingTalkError as exc:
        sample = None
        details.append(f"{MOBILE_FIELD}: could not read a member ({describe(exc)})")
    if sample is None:
        details.append(f"{MOBILE_FIELD}: not checked (no member could be read)")
    elif sample.mobile:
        details.append(f"{MOBILE_FIELD}: granted (mobile present for {sample.userid})")
    else:
        mobile_missing = True
        details.append(f"{MOBILE_FIELD}: missing (no mobile in {sample.userid}'s profile)")
    if not missing and not mobile_missing:
        return CheckResult.passed("permissions", detail="; ".join(details), unverified=unverified)
    lines = [
        Message("%(permission)s: needed for %(why)s", permission=_label(n.code), why=Message(n.why))
        for n in missing
    ]
    fixes = [Message("权限管理 → search %(code)s → 开通", code=n.code) for n in missing]
    if mobile_missing:
        lines.append(
            Message(
                "%(permission)s (field permission): DingTalk leaves mobiles out of member "
                "profiles, so members cannot be matched by mobile",
                permission=MOBILE_FIELD,
            )
        )
        fixes.append(Message("权限管理 → search %(code)s → 开通", code=MOBILE_FIELD))
    codes = [n.code for n in missing] + ([MOBILE_FIELD] if mobile_missing else [])
    return CheckResult(
        "permissions",
        Status.FAIL,
        cause=Message(
            "The app lacks these permissions:\n%(lines)s",
            lines=_listed("\n", "- ", lines),
        ),
        fix=Message(
            "In the developer console → the app: %(steps)s. Then publish a new version of the "
            "app and test again.",
            steps=_listed("; ", "", fixes),
        ),
        detail="; ".join(details),
        data={"missing": codes, "unverified": unverified},
    )
