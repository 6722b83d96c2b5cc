"""Console: a space's "钉钉授权(微应用)" settings (the AppSecret is write-only here), the values to
paste into DingTalk with a QR code of the space URL, and "测试连接 / Test connection"."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from dingbridge.context import get_context
from dingbridge.doctor.results import summary
from dingbridge.errors import ValidationFailed
from dingbridge.spaces.connection_test import (
    available,
    last_connection_test,
    run_connection_test,
    save_dingtalk_settings,
)
from dingbridge.spaces.dingtalk_settings import (
    DingTalkConfig,
    DingTalkInput,
    load_dingtalk,
)
from dingbridge.spaces.store import get_space
from dingbridge.storage.models import Space
from dingbridge.web.console.pages import actor, redirect, render_page
from dingbridge.web.console.session import require_admin
from dingbridge.web.console.setup_values import qr_svg, setup_values
from dingbridge.web.templating import get_templates
from dingbridge.web.urls import server_base

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


async def _page_values(request: Request, space: Space, config: DingTalkConfig) -> dict[str, Any]:
    values = setup_values(request, config)
    language = get_templates(request).language(request)
    test_run = await last_connection_test(get_context(request), space.id)
    return {
        "space": space,
        "config": config,
        "setup": values,
        "qr": qr_svg(values.home_url, values.home_url),
        "test_available": available(),
        "test_run": test_run,
        # the doctor's own one-line verdict ("passed, with 2 warnings")
        "test_summary": test_run and summary((c["status"] for c in test_run.checks), language),
        "en": language.startswith("en"),
    }


@router.get("/admin/spaces/{space_id:int}/dingtalk")
async def dingtalk_page(request: Request, space_id: int) -> Response:
    await require_admin(request)
    async with get_context(request).db.session() as session:
        space = await get_space(session, space_id)
        config = await load_dingtalk(session, space_id)
    values = await _page_values(request, space, config)
    return await render_page(
        request, "console/dingtalk.html", {**values, "form": DingTalkInput.of(config)}
    )


@router.post("/admin/spaces/{space_id:int}/dingtalk/test")
async def test_connection_button(request: Request, space_id: int) -> Response:
    user = await require_admin(request)
    await run_connection_test(
        get_context(request), space_id, base_url=server_base(request), actor=actor(user.username)
    )
    return redirect(f"/admin/spaces/{space_id}/dingtalk?done=tested#test-results")


@router.post("/admin/spaces/{space_id:int}/dingtalk")
async def dingtalk_form_posted(request: Request, space_id: int) -> Response:
    user = await require_admin(request)
    form = await request.form()
    data = DingTalkInput(
        enabled=form.get("enabled") == "1",
        corp_name=str(form.get("corp_name", "")),
        corp_id=str(form.get("corp_id", "")),
        agent_id=str(form.get("agent_id", "")),
        app_key=str(form.get("app_key", "")),
        app_secret=str(form.get("app_secret", "")),
        api_version=str(form.get("api_version", "v2")),
        forward_url=str(form.get("forward_url", "")),
    )
    context = get_context(request)
    try:
        await save_dingtalk_settings(
            get_context(request), space_id, data, actor=actor(user.username)
        )
    except ValidationFailed as exc:
        async with context.db.session() as session:
            space = await get_space(session, space_id)
            config = await load_dingtalk(session, space_id)
        # Never echo the typed secret back into the page.
        shown = DingTalkInput(**{**data.__dict__, "app_secret": ""})
        values = await _page_values(request, space, config)
        return await render_page(
            request,
            "console/dingtalk.html",
            {**values, "form": shown, "errors": exc.problems},
            status=400,
        )
    log.info("DingTalk settings of space %d saved by %s", space_id, user.username)
    return redirect(f"/admin/spaces/{space_id}/dingtalk?done=saved")
