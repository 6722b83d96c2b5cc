"""A space's apps: the entries members see on the space home after signing in.

Today an app is a titled link (an absolute http(s) address or a path on this server), kept in
the order they were added. Adding and deleting are audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.errors import NotFound, ValidationFailed
from dingbridge.spaces import audit
from dingbridge.spaces.store import get_space
from dingbridge.storage.models import SpaceApp


async def space_apps(session: AsyncSession, space_id: int) -> Sequence[SpaceApp]:
    query = (
        select(SpaceApp)
        .where(SpaceApp.space_id == space_id)
        .order_by(SpaceApp.position, SpaceApp.id)
    )
    return (await session.scalars(query)).all()


def clean_app(title: str, url: str) -> tuple[str, str]:
    """The title (spaces collapsed) and URL, or :class:`ValidationFailed` naming each field."""
    problems: dict[str, str] = {}
    title = " ".join(title.split())
    url = url.strip()
    if not title or len(title) > 200:
        problems["title"] = "A title of 1 to 200 characters is required."
    parts = urlsplit(url)
    absolute = parts.scheme in ("http", "https") and bool(parts.netloc)
    relative = url.startswith("/") and not url.startswith("//")
    if not (absolute or relative) or len(url) > 1000 or any(c.isspace() for c in url):
        problems["url"] = "Enter an http:// or https:// address, or a path starting with /."
    if problems:
        raise ValidationFailed(problems)
    return title, url


async def add_app(
    session: AsyncSession, space_id: int, title: str, url: str, *, actor: str
) -> SpaceApp:
    """Add an app at the end of the space's list (validated first, audited)."""
    clean_title, clean_url = clean_app(title, url)
    await get_space(session, space_id)
    last = await session.scalar(
        select(func.max(SpaceApp.position)).where(SpaceApp.space_id == space_id)
    )
    app = SpaceApp(space_id=space_id, title=clean_title, url=clean_url, position=(last or 0) + 1)
    session.add(app)
    await session.flush()
    await audit.record(
        session,
        actor,
        "space_app.add",
        f"space:{space_id}/app:{app.id}",
        {"title": clean_title, "url": clean_url},
    )
    return app


async def delete_app(session: AsyncSession, space_id: int, app_id: int, *, actor: str) -> None:
    """Delete one of the space's apps (audited); :class:`NotFound` for another space's."""
    app = await session.get(SpaceApp, app_id)
    if app is None or app.space_id != space_id:
        raise NotFound(f"App {app_id} is not in space {space_id}.")
    await audit.record(
        session,
        actor,
        "space_app.delete",
        f"space:{space_id}/app:{app_id}",
        {"title": app.title, "url": app.url},
    )
    await session.delete(app)
