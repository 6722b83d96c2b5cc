"""Reading a forward-auth app for the tools that configure its proxy."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.errors import NotFound
from dingbridge.gate.gate_sessions import FORWARD_AUTH
from dingbridge.storage.models import SpaceApp


async def forward_auth_app(session: AsyncSession, app_id: int) -> tuple[int, str]:
    """The app's space id and URL; :class:`NotFound` unless it is a forward-auth app."""
    app = await session.get(SpaceApp, app_id)
    if app is None:
        raise NotFound(f"There is no app {app_id}.")
    if app.kind != FORWARD_AUTH:
        raise NotFound(
            f"App {app_id} ({app.title}) is a {app.kind!r} app, not a forward-auth app: "
            "create it as a forward-auth app to put it behind nginx."
        )
    return app.space_id, app.url
