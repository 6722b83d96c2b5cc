"""The space home after sign-in: who you are, your DingTalk identity, the space's apps.

``space_apps`` reads the apps from the database (the console's Sign-in tab); the home takes
them from the space cache."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from dingbridge.signin.member_session import SignedIn
from dingbridge.signin.pages import render
from dingbridge.signin.sms import mask_mobile
from dingbridge.signin.space_cache import SpaceView
from dingbridge.spaces.mobile import display_mobile
from dingbridge.storage.models import SpaceApp
from dingbridge.web.context import get_context


async def space_apps(session: AsyncSession, space_id: int) -> Sequence[SpaceApp]:
    query = (
        select(SpaceApp)
        .where(SpaceApp.space_id == space_id)
        .order_by(SpaceApp.position, SpaceApp.id)
    )
    return (await session.scalars(query)).all()


def render_home(request: Request, space: SpaceView, current: SignedIn) -> Response:
    context = get_context(request)
    return render(
        request,
        "space/home.html",
        {
            "space": space,
            "member": current.member,
            "masked_mobile": mask_mobile(display_mobile(current.member.mobile)),
            "corp_name": space.config.corp_name or current.corp_id,
            "corp_id": current.corp_id,
            "userid": current.userid,
            "apps": space.apps,
            "logout_token": current.form_token(context.signin.signing_key),
        },
    )
