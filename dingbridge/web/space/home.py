"""The space home after sign-in: who you are, your DingTalk identity, the space's apps.

The apps come from the space cache (:mod:`dingbridge.signin.space_cache`); they are managed
in the console (:mod:`dingbridge.spaces.apps`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from dingbridge.context import get_context
from dingbridge.signin.member_sessions import SignedIn
from dingbridge.signin.sms import mask_mobile
from dingbridge.signin.space_cache import SpaceView
from dingbridge.spaces.mobile import display_mobile
from dingbridge.web.space.pages import render


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
            "apps": space.apps_for(current.member),
            "logout_token": current.form_token(context.signin.keys.logout_form),
        },
    )
