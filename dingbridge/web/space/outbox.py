"""``/_dev/outbox.json`` and ``/_dev/outbox``: the console SMS sender's messages.

Development mode only (and only with the console sender): 404 otherwise, so a production
server never shows verification codes.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dingbridge.context import get_context
from dingbridge.errors import NotFound
from dingbridge.signin.sms.console import ConsoleSender
from dingbridge.web.space.pages import render

router = APIRouter(include_in_schema=False)


def _outbox(request: Request) -> ConsoleSender:
    context = get_context(request)
    outbox = context.signin.outbox
    if not context.settings.development or outbox is None:
        raise NotFound()
    return outbox


@router.get("/_dev/outbox.json")
async def outbox_json(request: Request) -> Response:
    messages = _outbox(request).outbox()
    return JSONResponse(messages, headers={"Cache-Control": "no-store"})


@router.get("/_dev/outbox")
async def outbox_page(request: Request) -> Response:
    messages = [
        {
            "time": m.sent_at,
            "mobile": m.mobile,
            "text": m.text,
        }
        for m in reversed(_outbox(request).messages)
    ]
    return render(request, "space/outbox.html", {"messages": messages})
