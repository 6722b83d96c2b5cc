"""The space's OpenID Connect provider over HTTP (issuer ``{server}/{space}``).

``/{space}/.well-known/openid-configuration`` and under ``/{space}/oidc/``: ``jwks``,
``authorize``, ``token``, ``userinfo``, ``revoke``, ``introspect``, ``logout`` (end-session).
Each route turns the request into a call of :class:`dingbridge.oidc.provider.Provider` and the
answer into a response. When the authorization endpoint needs a sign-in, the browser goes to
the space entry (``/{space}/?login=1&next=…``): inside DingTalk the entry page signs in with
the JSAPI code without a click, in a browser it goes on to DingTalk's OAuth page, a first-time
user binds by SMS, and every path ends at ``next``, which comes back here.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from dingbridge.context import get_context
from dingbridge.oidc.provider import (
    Answer,
    AppRefused,
    BadRequest,
    Provider,
    SignInNeeded,
    discovery,
)
from dingbridge.oidc.server import ProviderRequest
from dingbridge.signin.member_sessions import space_path
from dingbridge.signin.space_cache import SpaceView
from dingbridge.web.space.cookies import current_member, end_session
from dingbridge.web.space.pages import allow_app_targets, render
from dingbridge.web.urls import server_base

router = APIRouter(include_in_schema=False)
PUBLIC = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}


def provider(request: Request) -> Provider:
    found: Provider = request.app.state.oidc
    return found


def issuer(request: Request, space_id: int) -> str:
    return f"{server_base(request)}/{space_id}"


async def _space(request: Request, space_id: int) -> SpaceView:
    return await get_context(request).signin.spaces.space(space_id)


async def _provider_request(request: Request) -> ProviderRequest:
    form: list[tuple[str, str]] = []
    if request.method == "POST":
        posted = await request.form()
        form = [(k, v) for k, v in posted.multi_items() if isinstance(v, str)]
    headers = dict(request.headers)
    if len(headers.get("authorization", "x y").split(None, 1)) != 2:
        # "Basic " with nothing after it made authlib fail (a 500): no credentials at all.
        del headers["authorization"]
    return ProviderRequest(
        request.method, str(request.url), headers, request.query_params.multi_items(), form
    )


def _respond(answer: Answer) -> Response:
    body: Any = answer.body
    headers = dict(answer.headers)
    if isinstance(body, dict):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    return Response(body or b"", status_code=answer.status, headers=headers)


def _bad(request: Request, space_id: int, refused: BadRequest) -> Response:
    values = {"space_id": space_id, "error": refused.error, "description": refused.description}
    return render(request, "space/oidc_error.html", values, status=400)


@router.get("/{space_id:int}/.well-known/openid-configuration")
async def openid_configuration(request: Request, space_id: int) -> Response:
    await _space(request, space_id)
    return JSONResponse(discovery(issuer(request, space_id)), headers=PUBLIC)


@router.get("/{space_id:int}/oidc/jwks")
async def jwks(request: Request, space_id: int) -> Response:
    await _space(request, space_id)
    return JSONResponse(await provider(request).jwks(space_id), headers=PUBLIC)


@router.get("/{space_id:int}/oidc/authorize")
async def authorize(request: Request, space_id: int) -> Response:
    space = await _space(request, space_id)
    current = await current_member(request, space_id)
    outcome = await provider(request).authorize(
        space,
        issuer(request, space_id),
        str(request.url),
        dict(request.headers),
        request.query_params.multi_items(),
        current,
    )
    if isinstance(outcome, Answer):
        return _respond(outcome)
    if isinstance(outcome, SignInNeeded):
        target = f"{space_path(space_id)}?login=1&next={quote(outcome.resume, safe='')}"
        return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
    if isinstance(outcome, AppRefused):
        assert current is not None
        values = {
            "space_id": space_id,
            "space_name": space.name,
            "app_title": outcome.app_title,
            "member_name": current.member.name,
        }
        return render(request, "space/app_refused.html", values, status=403)
    return _bad(request, space_id, outcome)


@router.post("/{space_id:int}/oidc/token")
async def token(request: Request, space_id: int) -> Response:
    space = await _space(request, space_id)
    call = await _provider_request(request)
    return _respond(await provider(request).token(space, issuer(request, space_id), call))


@router.api_route("/{space_id:int}/oidc/userinfo", methods=["GET", "POST"])
async def userinfo(request: Request, space_id: int) -> Response:
    space = await _space(request, space_id)
    call = await _provider_request(request)
    return _respond(await provider(request).userinfo(space, issuer(request, space_id), call))


@router.post("/{space_id:int}/oidc/revoke")
async def revoke(request: Request, space_id: int) -> Response:
    space = await _space(request, space_id)
    call = await _provider_request(request)
    return _respond(await provider(request).revoke(space, issuer(request, space_id), call))


@router.post("/{space_id:int}/oidc/introspect")
async def introspect(request: Request, space_id: int) -> Response:
    space = await _space(request, space_id)
    call = await _provider_request(request)
    return _respond(await provider(request).introspect(space, issuer(request, space_id), call))


@router.api_route("/{space_id:int}/oidc/logout", methods=["GET", "POST"])
async def logout(request: Request, space_id: int) -> Response:
    """RP-initiated logout. With a valid ``id_token_hint`` the session ends at once and the
    browser goes to the registered ``post_logout_redirect_uri``; without one the member is
    asked to confirm (a cross-site link cannot sign anyone out)."""
    context = get_context(request)
    space = await _space(request, space_id)
    call = await _provider_request(request)
    ending = await provider(request).end_session(space, issuer(request, space_id), call)
    if isinstance(ending, BadRequest):
        return _bad(request, space_id, ending)
    current = await current_member(request, space_id)
    if ending.needs_confirmation and current is not None:
        token = current.form_token(context.signin.keys.logout_form)
        if request.method != "POST" or call.form.get("token") != token:
            values = {"space": space, "confirm": True, "logout_token": token}
            allow_app_targets(request, space)
            return render(request, "space/end_session.html", values)
    answer = await ending.finish()
    response: Response
    if answer is not None:
        response = _respond(answer)
    else:
        response = render(request, "space/end_session.html", {"space": space, "confirm": False})
    await end_session(request, response, space_id)
    return response
