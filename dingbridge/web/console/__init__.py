"""The admin console under ``/admin/``: one module per page group (``login``, ``spaces``,
``members``, ``confirmations`` (before destructive actions), ``dingtalk``, ``signin_policy``,
``apps``, ``directory``, ``events`` (directory sync), ``audit``, ``tokens``),
plus the console's session cookie (``session``) and page rendering (``pages``).

Route modules parse the request, call one domain function, and render; CSRF is checked for
every unsafe request by :mod:`dingbridge.web.csrf`, not in each handler.
"""

from __future__ import annotations

from fastapi import APIRouter


def console_routers() -> tuple[APIRouter, ...]:
    from dingbridge.web.console import (
        apps,
        audit,
        confirmations,
        dingtalk,
        directory,
        events,
        login,
        members,
        signin_policy,
        spaces,
        tokens,
    )

    return (
        login.router,
        confirmations.router,
        spaces.router,
        members.router,
        dingtalk.router,
        audit.router,
        signin_policy.router,
        apps.router,
        directory.router,
        events.router,
        tokens.router,
    )
