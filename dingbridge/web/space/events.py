"""``POST /{space}/dingtalk/events``: DingTalk's HTTP event push for the space."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dingbridge.context import get_context
from dingbridge.events.callbacks import receive_callback

router = APIRouter()


@router.post("/{space_id:int}/dingtalk/events")
async def dingtalk_events(request: Request, space_id: int) -> Response:
    body = await request.body()
    reply = await receive_callback(get_context(request), space_id, dict(request.query_params), body)
    return JSONResponse(reply)
