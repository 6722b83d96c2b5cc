"""The library side of ``dingbridge app create|list|delete|rotate-secret``: each call applies
pending migrations, works in one transaction and closes the database (see
:mod:`dingbridge.spaces.headless`). A running server sees the change on its next request: the
space cache notices another process's commit (SQLite), or within its max age (PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.settings import Settings
from dingbridge.spaces import apps
from dingbridge.spaces.app_input import AppInput
from dingbridge.spaces.headless import CLI_ACTOR, run_in_transaction


def server_url(settings: Settings) -> str:
    """The server as users reach it: the ``external_url`` setting, else the address ``serve``
    listens on by default (``http://{host}:{port}``; 127.0.0.1 for a wildcard host)."""
    if settings.external_url:
        return settings.external_url.rstrip("/")
    host = settings.host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def issuer(settings: Settings, space_id: int) -> str:
    """The space's OpenID Connect issuer, ``{external URL}/{space}``."""
    return f"{server_url(settings)}/{space_id}"


@dataclass(frozen=True)
class CreatedApp:
    id: int
    client_id: str | None
    client_secret: str | None
    issuer: str

    def as_json(self) -> dict[str, Any]:
        """``{"id", "client_id", "client_secret", "issuer"}``; no ``client_secret`` when none
        was issued (a public client, or an app that is no OIDC client)."""
        shown: dict[str, Any] = {"id": self.id, "client_id": self.client_id}
        if self.client_secret is not None:
            shown["client_secret"] = self.client_secret
        shown["issuer"] = self.issuer
        return shown


def create_app(settings: Settings, space_id: int, data: AppInput) -> CreatedApp:
    async def work(session: AsyncSession) -> CreatedApp:
        saved = await apps.create_space_app(session, space_id, data, actor=CLI_ACTOR)
        return CreatedApp(
            saved.app.id, saved.app.client_id, saved.client_secret, issuer(settings, space_id)
        )

    return run_in_transaction(settings, work)


def describe(detail: apps.AppDetail) -> dict[str, Any]:
    """An app as ``dingbridge app list --json`` prints it (never a secret)."""
    app = detail.app
    return {
        "id": app.id,
        "name": app.title,
        "url": app.url,
        "icon": app.icon,
        "kind": app.kind,
        "access": app.access,
        "departments": list(detail.departments),
        "members": list(detail.members),
        "client_id": app.client_id,
        "public_client": app.public_client,
        "redirect_uris": list(app.redirect_uris or ()),
        "post_logout_redirect_uris": list(app.post_logout_redirect_uris or ()),
        "backchannel_logout_uri": app.backchannel_logout_uri,
    }


def list_apps(settings: Settings, space_id: int) -> list[dict[str, Any]]:
    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return [describe(detail) for detail in await apps.list_apps(session, space_id)]

    return run_in_transaction(settings, work)


def delete_app(settings: Settings, space_id: int, ref: str) -> dict[str, Any]:
    """Delete the app named by its id or client id; returns what it was."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        detail = await apps.find_app(session, space_id, ref)
        shown = describe(detail)
        await apps.delete_app(session, space_id, detail.app.id, actor=CLI_ACTOR)
        return shown

    return run_in_transaction(settings, work)


def rotate_secret(settings: Settings, space_id: int, ref: str) -> CreatedApp:
    async def work(session: AsyncSession) -> CreatedApp:
        detail = await apps.find_app(session, space_id, ref)
        secret = await apps.rotate_client_secret(session, space_id, detail.app.id, actor=CLI_ACTOR)
        return CreatedApp(detail.app.id, detail.app.client_id, secret, issuer(settings, space_id))

    return run_in_transaction(settings, work)
