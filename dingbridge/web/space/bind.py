"""Binding pages: a DingTalk user seen for the first time proves a member's mobile by SMS.

``GET /{space}/bind`` (needs the binding cookie set when DingTalk identified the user) asks for
the mobile; ``POST /{space}/bind/send`` sends a code; ``POST /{space}/bind/verify`` checks it,
binds, and signs in. A number that is not an active member's gets the same answers as a
member's (a neutral "if this number belongs to a member, a code was sent", the same cool-down,
daily caps, tries and expiry: such a number gets a code that is never sent), so the page never
tells which numbers exist.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dingbridge.context import AppContext, get_context
from dingbridge.i18n import N_, Message
from dingbridge.signin.binding_flow import (
    BindingRefused,
    bind_by_sms,
    send_binding_code,
    verify_binding_code,
)
from dingbridge.signin.codes import VerifyResult
from dingbridge.signin.member_sessions import create_session, space_path
from dingbridge.signin.pending import PENDING_COOKIE, PendingBinding, PendingBindings
from dingbridge.signin.sms import SmsSendError, mask_mobile, space_label
from dingbridge.spaces.mobile import InvalidMobile, display_mobile, normalize_mobile
from dingbridge.web.space.cookies import delete_space_cookie, set_session_cookie
from dingbridge.web.space.pages import allow_app_targets, gettext_for, render
from dingbridge.web.space.refusals import refusal_page

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

SEND_FAILURES = {
    "rate_limited": N_("This number has received too many messages. Try again later."),
    "rejected": N_(
        "The message could not be sent to this number. Check it or ask your administrator."
    ),
    "unavailable": N_("The SMS service is unavailable just now. Try again in a moment."),
    "misconfigured": N_("The SMS service is not set up correctly. Contact your administrator."),
}


def _form_token(context: AppContext, pending_token: str) -> str:
    key = context.signin.keys.bind_form
    return hmac.new(key, pending_token.encode(), hashlib.sha256).hexdigest()[:32]


async def _pending(request: Request, space_id: int) -> tuple[str, PendingBinding] | None:
    token = request.cookies.get(PENDING_COOKIE, "")
    pending = await PendingBindings(get_context(request).kv).get(token, space_id)
    return (token, pending) if pending is not None else None


async def _page(
    request: Request,
    space_id: int,
    token: str,
    pending: PendingBinding,
    *,
    status: int = 200,
    **values: Any,
) -> Response:
    context = get_context(request)
    space = await context.signin.spaces.space(space_id)
    shown = display_mobile(pending.mobile) if pending.mobile else ""
    data: dict[str, Any] = {
        "space_id": space_id,
        "space_name": space.name,
        "code_dead": False,
        "identity": pending.identity,
        "step": "code" if pending.mobile else "mobile",
        "masked_mobile": mask_mobile(shown) if shown else "",
        "form_token": _form_token(context, token),
        "minutes": context.signin.codes.policy.minutes,
        "error": "",
        "notice": "",
        "mobile_value": "",
    }
    data.update(values)
    return render(request, "space/bind.html", data, status=status)


async def _checked(
    request: Request, space_id: int
) -> tuple[str, PendingBinding, dict[str, str]] | Response:
    found = await _pending(request, space_id)
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if found is None:
        return RedirectResponse(space_path(space_id), status_code=303)
    token, pending = found
    sent = fields.get("token", "")
    if not hmac.compare_digest(sent, _form_token(get_context(request), token)):
        return refusal_page(request, space_id, "state_invalid")
    return token, pending, fields


async def _open_space(request: Request, space_id: int) -> None:
    """The space must exist; the page's forms may lead on to its apps."""
    allow_app_targets(request, await get_context(request).signin.spaces.space(space_id))


def _t(request: Request, message: str | Message) -> str:
    return gettext_for(request, message)


@router.get("/{space_id:int}/bind")
async def bind_page(request: Request, space_id: int) -> Response:
    await _open_space(request, space_id)
    found = await _pending(request, space_id)
    if found is None:
        return RedirectResponse(space_path(space_id), status_code=303)
    return await _page(request, space_id, *found)


@router.post("/{space_id:int}/bind/change")
async def change_number(request: Request, space_id: int) -> Response:
    checked = await _checked(request, space_id)
    if isinstance(checked, Response):
        return checked
    token, pending, _ = checked
    pending.mobile = None
    await PendingBindings(get_context(request).kv).save(token, pending)
    return RedirectResponse(f"{space_path(space_id)}bind", status_code=303)


@router.post("/{space_id:int}/bind/send")
async def send_code(request: Request, space_id: int) -> Response:
    context = get_context(request)
    await _open_space(request, space_id)
    checked = await _checked(request, space_id)
    if isinstance(checked, Response):
        return checked
    token, pending, fields = checked
    # "Send a new code" after a code died: the number already given, not typed again.
    resend = fields.get("resend") == "1" and bool(pending.mobile)
    typed = pending.mobile if resend and pending.mobile else fields.get("mobile", "")
    try:
        mobile = normalize_mobile(typed)
    except InvalidMobile:
        error = _t(request, N_("Enter a valid mobile number (11 digits, or + and country code)."))
        return await _page(
            request, space_id, token, pending, status=400, error=error, mobile_value=typed
        )
    client_ip = request.client.host if request.client else ""
    try:
        result = await send_binding_code(context, space_id, mobile, client_ip)
    except SmsSendError as exc:
        error = _t(request, SEND_FAILURES[exc.reason])
        return await _page(
            request, space_id, token, pending, status=502, error=error, mobile_value=typed
        )
    status, retry_after = result.status, result.retry_after
    space = await context.signin.spaces.space(space_id)
    if status in ("mobile_limit", "ip_limit"):
        error = _t(request, N_("Too many codes were asked for today. Try again tomorrow."))
        return await _page(
            request, space_id, token, pending, status=429, error=error, mobile_value=typed
        )
    if status == "cooldown" and pending.mobile != mobile:
        error = _t(request, N_("A code was sent a moment ago. Wait {seconds} seconds.")).format(
            seconds=int(retry_after + 0.999)
        )
        return await _page(
            request, space_id, token, pending, status=429, error=error, mobile_value=typed
        )
    pending.mobile = mobile
    await PendingBindings(context.kv).save(token, pending)
    if status == "cooldown":
        notice = _t(request, N_("A code was sent a moment ago. Wait {seconds} seconds.")).format(
            seconds=int(retry_after + 0.999)
        )
        # Asked again for a dead code too soon: it stays dead until the new one is sent.
        return await _page(request, space_id, token, pending, notice=notice, code_dead=resend)
    else:
        notice = _t(
            request,
            Message(
                "If this number belongs to a member of %(space)s, a verification code has been "
                "sent to it. The message names this app space.",
                space=space_label(space.name, space_id),
            ),
        )
    return await _page(request, space_id, token, pending, notice=notice)


@router.post("/{space_id:int}/bind/verify")
async def verify_code(request: Request, space_id: int) -> Response:
    context = get_context(request)
    await _open_space(request, space_id)
    checked = await _checked(request, space_id)
    if isinstance(checked, Response):
        return checked
    token, pending, fields = checked
    if not pending.mobile:
        return RedirectResponse(f"{space_path(space_id)}bind", status_code=303)
    result, member_id = await verify_binding_code(
        context, space_id, pending, fields.get("code", "")
    )
    status, tries_left = result.status, result.tries_left
    if member_id is None:
        space = await context.signin.spaces.space(space_id)
        label = space_label(space.name, space_id)
        messages = {
            "wrong": Message(
                "The code is wrong. Check that the message names %(space)s: a code for another "
                "app space does not work here. %(tries)s tries left.",
                space=label,
                tries=tries_left,
            ),
            "dead": Message(
                "Too many wrong tries: this code no longer works. Send a new code to try again."
            ),
            "expired": Message("The code has expired. Send a new code to try again."),
            "none": Message("Ask for a code first."),
        }
        error = _t(request, messages.get(status, messages["none"]))
        context.metrics.binding("sms", f"code_{status}" if status in messages else "code_other")
        dead = status in ("dead", "expired", "none")
        return await _page(
            request, space_id, token, pending, status=400, error=error, code_dead=dead
        )
    return await _bind_and_sign_in(request, space_id, token, pending, member_id, result)


async def _bind_and_sign_in(
    request: Request,
    space_id: int,
    token: str,
    pending: PendingBinding,
    member_id: int,
    proof: VerifyResult | None = None,
) -> Response:
    context = get_context(request)
    try:
        member = await bind_by_sms(context, space_id, pending.identity, member_id, proof)
    except BindingRefused as refused:
        context.metrics.binding("sms", refused.reason)
        return refusal_page(request, space_id, refused.reason)
    context.metrics.binding("sms", "ok")
    session_record = await create_session(context, space_id, member.id, pending.identity)
    await PendingBindings(context.kv).drop(token)
    response = RedirectResponse(pending.next_path, status_code=303)
    set_session_cookie(request, response, space_id, session_record.id)
    delete_space_cookie(response, space_id, PENDING_COOKIE)
    return response
