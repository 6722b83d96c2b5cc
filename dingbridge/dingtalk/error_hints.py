"""What to do about DingTalk codes that have no exception class of their own.

``CODE_HINTS[code] = (zh-CN, English)``; the plain :class:`DingTalkError` uses them for its
``explanation``. Codes come from DingTalk's documentation and live traffic.
"""

from __future__ import annotations

__all__ = ["CODE_HINTS", "JSAPI_HINTS"]

CODE_HINTS: dict[str, tuple[str, str]] = {
    "22": (
        "接口路径不存在：检查转发地址是否把 /oapi-dingtalk-com/ 转发到 https://oapi.dingtalk.com/。",
        "Unknown API path: check the forwarder maps /oapi-dingtalk-com/ to "
        "https://oapi.dingtalk.com/.",
    ),
    "404": (
        "请求的地址不存在：检查转发地址的 /api-dingtalk-com/ 与 /oapi-dingtalk-com/ 是否接反。",
        "DingTalk does not know this address: check the forwarder's /api-dingtalk-com/ and "
        "/oapi-dingtalk-com/ prefixes are not swapped.",
    ),
    "InvalidAction.NotFound": (
        "api 接口不存在：检查转发地址是否把 /api-dingtalk-com/ 转发到 https://api.dingtalk.com/。",
        "Unknown api action: check the forwarder maps /api-dingtalk-com/ to "
        "https://api.dingtalk.com/.",
    ),
    "33001": (
        "企业ID与访问令牌不匹配：确认 CorpId 与 AppKey 属于同一个企业。",
        "The CorpId does not match the token: check CorpId and AppKey belong to the same "
        "organisation.",
    ),
    "40035": (
        "请求参数缺失或不合法。",
        "A request parameter is missing or invalid.",
    ),
    "40056": (
        "AgentId 不合法：在应用的 凭证与基础信息 页复制该应用自己的 AgentId。",
        "Invalid AgentId: copy the AgentId of this same app from its 凭证与基础信息 page.",
    ),
    "41011": (
        "缺少 AgentId：在空间设置中填写应用的 AgentId。",
        "AgentId is missing: fill in the app's AgentId.",
    ),
    "50002": (
        "该员工不在应用的可见范围或通讯录授权范围内：在 版本管理与发布 调整可使用范围。",
        "The person is outside the app's visibility or contacts scope: widen 可使用范围 in "
        "版本管理与发布.",
    ),
    "50004": (
        "该部门不在应用的通讯录授权范围内：调整应用的通讯录授权范围。",
        "The department is outside the app's contacts scope: widen it in the console.",
    ),
    "60003": ("部门不存在。", "The department does not exist."),
    "853001": (
        "SNS 签名参数错误：检查 AppSecret 和服务器时间。",
        "SNS signature problem: check the AppSecret and this server's clock.",
    ),
    "853002": (
        "SNS 签名时间戳与钉钉服务器相差过大：校准本服务器时间（NTP）。",
        "The SNS signature timestamp is too far from DingTalk's time: sync this server's "
        "clock (NTP).",
    ),
    "853003": (
        "SNS 签名校验失败：检查 AppSecret。",
        "SNS signature mismatch: check the AppSecret.",
    ),
    "853004": (
        "SNS 签名参数错误：检查 AppKey（accessKey）。",
        "SNS signature problem: check the AppKey (accessKey).",
    ),
}

# dd.config / JSAPI errors reported in the browser, for pages that show them
JSAPI_HINTS: dict[int, tuple[str, str]] = {
    52010: ("无效的 corpId：检查空间的 CorpId。", "Invalid corpId: check the space's CorpId."),
    52011: (
        "jsapi ticket 读取失败：ticket 与 corpId 不属于同一企业或已过期。",
        "JSAPI ticket failed: the ticket belongs to another corp or expired.",
    ),
    52012: ("签名生成失败。", "Signature generation failed."),
    52013: (
        "签名校验失败：签名用的 URL 必须与页面地址完全一致（协议、端口、路径、查询参数），"
        "反向代理改变了端口或协议时常见。",
        "Signature mismatch: the signed URL must equal the page address exactly (scheme, "
        "port, path, query); common behind proxies that change port or scheme.",
    ),
    52014: ("无效的 url。", "Invalid url."),
    52015: ("无效的 nonceStr。", "Invalid nonceStr."),
    52016: ("无效的 signature。", "Invalid signature."),
    52017: ("无效的 jsApiList。", "Invalid jsApiList."),
    52018: ("无效的 timeStamp。", "Invalid timeStamp."),
    52019: (
        "无效的 agentId：AgentId 与 AppKey 必须属于同一个应用。",
        "Invalid agentId: AgentId and AppKey must belong to the same app.",
    ),
}
