"""Content-Security-Policy: every page the server renders (console, space pages, OpenID
pages, gate pages, error pages) carries the strict policy; no template holds an inline
script, style or event handler the policy would block (so none needs a nonce). The browser
side: ``test_xss.py``; the binding and sign-out forms that lead on to an app:
``tests/e2e/test_oidc_browser.py`` (they fail without the app origins in ``form-action``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dingbridge.web.security_headers import content_security_policy, origin_of
from dingbridge.web.templating import TEMPLATE_DIR
from tests.signin.signin_world import World, admin_browser

INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),  # a script without src
    re.compile(r"<style", re.I),
    re.compile(r"\son[a-z]+\s*=", re.I),  # onclick=, onload=...
    re.compile(r"\sstyle\s*=", re.I),
    re.compile(r"javascript:", re.I),
]
TEMPLATES = sorted(TEMPLATE_DIR.rglob("*.html"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATE_DIR)))
def test_no_template_has_inline_script_style_or_handler(template: Path) -> None:
    text = template.read_text(encoding="utf-8")
    found = [pattern.pattern for pattern in INLINE if pattern.search(text)]
    assert not found, f"{template.name}: {found}"


def _directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


PAGES = [
    ("/admin/login", "console"),
    ("/admin/spaces", "console"),
    ("/admin/spaces/10001/members", "console"),
    ("/admin/no-such-page", "console"),
    ("/10001/", "space"),
    ("/10001/bind", "space"),
    ("/10001/oidc/authorize?client_id=nobody", "space"),
    ("/10001/gate/999", "space"),
    ("/99999/", "space"),
    ("/_dingbridge/callback?ticket=x", "gate"),
    ("/api/v1/spaces", "api"),
    ("/no-such-page", "other"),
]


@pytest.mark.parametrize(("path", "kind"), PAGES)
async def test_every_page_carries_the_strict_policy(world: World, path: str, kind: str) -> None:
    browser = await admin_browser(world)
    answer = await browser.get(path)
    policy = answer.header("content-security-policy")
    assert policy, f"{path} ({answer.status}) has no policy"
    rules = _directives(policy)
    assert rules["default-src"] == ["'self'"]
    assert rules["object-src"] == ["'none'"] and rules["base-uri"] == ["'none'"]
    assert rules["frame-ancestors"] == ["'none'"]
    assert rules["style-src"] == ["'self'"]
    assert rules["form-action"][0] == "'self'"
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    jsapi = "http://sim.test"  # the world's jsapi_url origin
    if kind == "space":
        assert rules["script-src"] == ["'self'", jsapi]
    else:
        assert rules["script-src"] == ["'self'"]


async def test_form_targets_are_the_space_s_app_origins_only(world: World) -> None:
    assert origin_of("https://App.example:8443/cb?x=1") == "https://app.example:8443"
    for bad in ("javascript:alert(1)", "https://a.example;script-src *", "data:text/html,x"):
        assert origin_of(bad) is None, bad
    policy = content_security_policy("/10001/bind", None, ["https://a.example"])
    assert _directives(policy)["form-action"] == ["'self'", "https://a.example"]
