"""The member-facing pages of a space, all under ``/{space}/``: the entry page and home
(``entry``, ``home``), the in-client sign-in (``in_client``), the browser OAuth start and
callback (``oauth``), the SMS binding (``bind``), the space's OpenID Connect provider
(``oidc``); the development outbox (``outbox``,
``/_dev/``) is included last.

The decisions (who the DingTalk user is, bound member or binding to make, codes) live in
:mod:`dingbridge.signin`; these modules turn requests into calls and results into pages.
"""

from __future__ import annotations

from fastapi import APIRouter


def space_routers() -> tuple[APIRouter, ...]:
    from dingbridge.web.space import bind, entry, events, in_client, oauth, oidc

    return (
        entry.router,
        in_client.router,
        oauth.router,
        bind.router,
        oidc.router,
        events.router,
    )
