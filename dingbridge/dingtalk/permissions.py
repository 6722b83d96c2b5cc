"""DingTalk app permissions: codes, the names the developer console shows, and who needs what.

Used to name a missing permission the way an admin will find it in 权限管理, and by the
doctor / console pages to list what an app must request.
"""

from __future__ import annotations

__all__ = [
    "ENDPOINT_PERMISSIONS",
    "FIELD_PERMISSIONS",
    "PERMISSION_NAMES",
    "permission_for_path",
    "permission_label",
]

# permission code -> name shown in the developer console (权限管理)
PERMISSION_NAMES: dict[str, str] = {
    "qyapi_base": "调用企业API时需要具备的基本权限",
    "qyapi_get_member": "成员信息读权限",
    "qyapi_get_department_list": "通讯录部门信息读权限",
    "qyapi_get_department_member": "通讯录部门成员读权限",
    "qyapi_get_member_by_mobile": "根据手机号获取成员基本信息权限",
    "open_app_api_base": "获取钉钉开放接口用户访问凭证的基础权限",
    "Contact.User.Read": "通讯录个人信息读权限",
    "Contact.User.mobile": "个人手机号信息",
}

# field permissions have no public code; DingTalk silently omits the fields without them
FIELD_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "企业员工手机号信息": ("mobile", "state_code"),
    "邮箱等个人信息": ("email", "org_email", "work_place", "remark", "extension"),
}

# DingTalk path (without query) -> permission code it needs
ENDPOINT_PERMISSIONS: dict[str, str] = {
    "/gettoken": "qyapi_base",
    "/get_jsapi_ticket": "qyapi_base",
    "/user/getuserinfo": "qyapi_base",
    "/topapi/v2/user/getuserinfo": "qyapi_base",
    "/topapi/message/corpconversation/asyncsend_v2": "qyapi_base",
    "/topapi/message/corpconversation/getsendprogress": "qyapi_base",
    "/topapi/message/corpconversation/getsendresult": "qyapi_base",
    "/topapi/v2/user/get": "qyapi_get_member",
    "/topapi/user/getbyunionid": "qyapi_get_member",
    "/topapi/user/listid": "qyapi_get_member",
    "/topapi/v2/department/listsub": "qyapi_get_department_list",
    "/topapi/v2/department/listsubid": "qyapi_get_department_list",
    "/topapi/v2/department/get": "qyapi_get_department_list",
    "/topapi/v2/user/list": "qyapi_get_department_member",
    "/topapi/user/listsimple": "qyapi_get_department_member",
    "/topapi/v2/user/getbymobile": "qyapi_get_member_by_mobile",
    "/v1.0/oauth2/userAccessToken": "open_app_api_base",
    "/v1.0/contact/users/": "Contact.User.Read",
}


def permission_for_path(path: str) -> str:
    """The permission code an endpoint needs (``qyapi_base`` when not listed)."""
    if path in ENDPOINT_PERMISSIONS:
        return ENDPOINT_PERMISSIONS[path]
    if path.startswith("/v1.0/contact/users/"):
        return "Contact.User.Read"
    return "qyapi_base"


def permission_label(code: str) -> str:
    """``成员信息读权限 (qyapi_get_member)``: the console name, then the code."""
    name = PERMISSION_NAMES.get(code)
    return f"{name} ({code})" if name else code
