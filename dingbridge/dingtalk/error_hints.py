"""What to do about DingTalk codes that have no exception class of their own.

``CODE_HINTS[code]`` is a catalog message (:class:`dingbridge.i18n.Message`, Chinese in the
catalogs); the plain :class:`DingTalkError` uses them for its ``hint``. Codes come from
DingTalk's documentation and live traffic.
"""

from __future__ import annotations

from dingbridge.i18n import Message

__all__ = ["CODE_HINTS", "JSAPI_HINTS"]

CODE_HINTS: dict[str, Message] = {
    "22": Message(
        "Unknown API path: check the forwarder maps /oapi-dingtalk-com/ to "
        "https://oapi.dingtalk.com/."
    ),
    "404": Message(
        "DingTalk does not know this address: check the forwarder's /api-dingtalk-com/ and "
        "/oapi-dingtalk-com/ prefixes are not swapped."
    ),
    "InvalidAction.NotFound": Message(
        "Unknown api action: check the forwarder maps /api-dingtalk-com/ to "
        "https://api.dingtalk.com/."
    ),
    "33001": Message(
        "The CorpId does not match the token: check CorpId and AppKey belong to the same "
        "organisation."
    ),
    "40035": Message("A request parameter is missing or invalid."),
    "40056": Message(
        "Invalid AgentId: copy the AgentId of this same app from its 凭证与基础信息 page."
    ),
    "41011": Message("AgentId is missing: fill in the app's AgentId."),
    "50002": Message(
        "The person is outside the app's visibility or contacts scope: widen 可使用范围 in "
        "版本管理与发布."
    ),
    "50004": Message(
        "The department is outside the app's contacts scope: widen it in the console."
    ),
    "60003": Message("The department does not exist."),
    "853001": Message("SNS signature problem: check the AppSecret and this server's clock."),
    "853002": Message(
        "The SNS signature timestamp is too far from DingTalk's time: sync this server's "
        "clock (NTP)."
    ),
    "853003": Message("SNS signature mismatch: check the AppSecret."),
    "853004": Message("SNS signature problem: check the AppKey (accessKey)."),
}

# dd.config / JSAPI errors reported in the browser, for pages that show them
JSAPI_HINTS: dict[int, Message] = {
    52010: Message("Invalid corpId: check the space's CorpId."),
    52011: Message("JSAPI ticket failed: the ticket belongs to another corp or expired."),
    52012: Message("Signature generation failed."),
    52013: Message(
        "Signature mismatch: the signed URL must equal the page address exactly (scheme, "
        "port, path, query); common behind proxies that change port or scheme."
    ),
    52014: Message("Invalid url."),
    52015: Message("Invalid nonceStr."),
    52016: Message("Invalid signature."),
    52017: Message("Invalid jsApiList."),
    52018: Message("Invalid timeStamp."),
    52019: Message("Invalid agentId: AgentId and AppKey must belong to the same app."),
}
