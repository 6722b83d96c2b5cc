"""Why a sign-in did not happen, in the visitor's words (translated by the sign-in catalog)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from dingbridge.i18n import N_
from dingbridge.signin.identity import STATUS
from dingbridge.web.space.pages import gettext_for, render

# reason → message id (English; zh-CN in the catalogs, dingbridge/i18n)
MESSAGES: dict[str, str] = {
    "code_invalid": N_("The DingTalk sign-in code is invalid or has expired. Open the app again."),
    "state_invalid": N_(
        "This sign-in has expired or did not start in this browser. Please sign in again."
    ),
    "cancelled": N_("DingTalk sign-in was cancelled."),
    "other_corp": N_(
        "This DingTalk account does not belong to the company of this app space, "
        "so it cannot sign in here."
    ),
    "member_disabled": N_(
        "Your account in this app space is disabled. Contact your administrator."
    ),
    "member_bound_elsewhere": N_(
        "This mobile number is already bound to another DingTalk account. "
        "Ask your administrator to unbind it first."
    ),
    "not_configured": N_("DingTalk sign-in is not enabled for this app space."),
    "dingtalk_misconfigured": N_(
        "DingTalk sign-in of this app space is not set up correctly. Contact your administrator."
    ),
    "dingtalk_unavailable": N_("DingTalk could not be reached just now. Try again in a moment."),
}


def refusal_text(request: Request, reason: str, detail: str | None = None) -> str:
    """The visitor's words for ``reason``, or ``detail`` (a Message) when the refusal has one."""
    return gettext_for(request, detail or MESSAGES.get(reason, MESSAGES["state_invalid"]))


def refusal_page(
    request: Request, space_id: int, reason: str, detail: str | None = None
) -> Response:
    return render(
        request,
        "space/message.html",
        {
            "space_id": space_id,
            "reason": reason,
            "message": refusal_text(request, reason, detail),
        },
        status=STATUS.get(reason, 400),
    )
