"""The fault matrix: every fault the simulator injects, on every DingTalk call of every
sign-in flow, and what the user saw.

Used by ``tests/faults/test_fault_matrix.py`` (the whole matrix, in-process) and by
``bench/faults/run.py`` (the same cells, printed as a table). A cell is (flow, call, fault):
a fresh server + simulator (in-process, SQLite), the fault put on the call (persistent: the
caller's retries meet it too), the flow played as the user would, then the fault cleared and
the flow played again by the same user in the same server (no restart).

Each DingTalk fault has the shape DingTalk gives it on the call's family (``dingtalk-api``
§9): an oapi errcode on flat endpoints, the errcode 88 wrapper with its ``sub_code`` on
``/topapi/*``, ``{code, message}`` with an HTTP status on ``/v1.0/*``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from dingbridge.dingtalk import DingTalkClient
from dingbridge.dingtalk.caller import RetryPolicy
from dingbridge.i18n import translations
from dingbridge.signin.binding_flow import bind, set_policy
from dingbridge.signin.pending import DingTalkIdentity
from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP
from dingbridge.sim.errors import IP_NOT_WHITELISTED, NO_PERMISSION, QPS_LIMITED
from dingbridge.sim.faults import parse_fault
from dingbridge.spaces import dingtalk_clients
from dingbridge.spaces.app_access import hash_client_secret, new_client_id, new_client_secret
from dingbridge.spaces.members import find_by_mobile
from dingbridge.storage.models import Binding, Member, SpaceApp
from dingbridge.web.i18n import LANG_COOKIE
from dingbridge.web.space.refusals import MESSAGES
from tests.signin.signin_world import Browser, Page, World, open_world, query_of, world_settings

# The server's DingTalk timeout in the matrix: a hang costs the caller's attempts × this.
CALL_TIMEOUT = 0.25
APP_URL = "http://app.test"
SESSION_COOKIE = "dingbridge_session"

# --- the faults -------------------------------------------------------------------------

INVALID_TOKEN = "不合法的access_token"
# Per family: (oapi flat, oapi /topapi/, api /v1.0/) fault fields; None = the same as flat.
_API_BUSY = {"kind": "error", "status": 500, "code": "systemBusy", "message": "系统繁忙"}


def _ip(path: str) -> dict[str, Any]:
    text = IP_NOT_WHITELISTED.format(ip="203.0.113.7", app_key="dingfullaccess0001ab")
    if path.startswith("/v1.0/"):
        code = "Forbidden.AccessDenied.IpNotInWhiteList"
        return {"kind": "error", "status": 403, "code": code, "message": text}
    return {"kind": "error", "errcode": 60020, "errmsg": text}


def _qps(path: str) -> dict[str, Any]:
    if path.startswith("/v1.0/"):
        code = "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"
        return {"kind": "error", "status": 403, "code": code, "message": QPS_LIMITED}
    return {"kind": "error", "errcode": 90018, "errmsg": QPS_LIMITED}


def _busy(path: str) -> dict[str, Any]:
    if path.startswith("/v1.0/"):
        return dict(_API_BUSY)
    return {"kind": "error", "errcode": -1, "errmsg": "系统繁忙"}


def _gateway(sub_code: str, sub_msg: str, api: tuple[int, str, str]) -> Callable[[str], Any]:
    """errcode 88 with ``sub_code`` on /topapi/; the flat code elsewhere on oapi; the api
    family's answer for the same cause on /v1.0/."""

    def shape(path: str) -> dict[str, Any]:
        if path.startswith("/v1.0/"):
            status, code, message = api
            return {"kind": "error", "status": status, "code": code, "message": message}
        if path.startswith("/topapi/"):
            return {"kind": "error", "sub_code": sub_code, "sub_msg": sub_msg}
        flat = {"40000": 41001}.get(sub_code, int(sub_code))
        return {"kind": "error", "errcode": flat, "errmsg": sub_msg}

    return shape


def _fixed(fields: dict[str, Any]) -> Callable[[str], dict[str, Any]]:
    return lambda _path: dict(fields)


def _wrong_shape(path: str) -> dict[str, Any]:
    """Valid JSON, "success", but without the fields the call returns."""
    body = "{}" if path.startswith("/v1.0/") else '{"errcode":0,"errmsg":"ok"}'
    return {"kind": "malformed", "body": body}


@dataclass(frozen=True)
class FaultCase:
    name: str
    shape: Callable[[str], dict[str, Any]]
    # What the user must be told while it lasts, when the flow cannot go on: the refusal
    # reason (None: the flow succeeds anyway, e.g. a short delay).
    reason: str | None

    def fault(self, path: str) -> dict[str, Any]:
        return {"path": path, **self.shape(path)}


FAULTS: tuple[FaultCase, ...] = (
    FaultCase("latency", _fixed({"kind": "latency", "seconds": CALL_TIMEOUT / 10}), None),
    FaultCase("slow", _fixed({"kind": "latency", "seconds": CALL_TIMEOUT * 3}), "unavailable"),
    FaultCase("hang", _fixed({"kind": "hang"}), "unavailable"),
    FaultCase("http_502", _fixed({"kind": "http_status", "status": 502}), "unavailable"),
    FaultCase("http_503", _fixed({"kind": "http_status", "status": 503}), "unavailable"),
    FaultCase("drop", _fixed({"kind": "drop"}), "unavailable"),
    FaultCase("60020", _ip, "misconfigured"),
    FaultCase("90018", _qps, "unavailable"),
    FaultCase(
        "88/40000",
        _gateway(
            "40000",
            "access_token is blank",
            (
                400,
                "AuthenticationFailed.MissingParameter",
                "缺少参数：x-acs-dingtalk-access-token",
            ),
        ),
        "unavailable",
    ),
    FaultCase(
        "88/40014",
        _gateway("40014", INVALID_TOKEN, (400, "InvalidAuthentication", INVALID_TOKEN)),
        "unavailable",
    ),
    FaultCase(
        "88/60011",
        _gateway(
            "60011",
            NO_PERMISSION,
            (403, "Forbidden.AccessDenied.AccessTokenPermissionDenied", NO_PERMISSION),
        ),
        "misconfigured",
    ),
    FaultCase("-1", _busy, "unavailable"),
    FaultCase("truncated_json", _fixed({"kind": "malformed"}), "unavailable"),
    FaultCase(
        "html_body",
        _fixed({"kind": "malformed", "body": "<html><body>请稍后再试</body></html>"}),
        "unavailable",
    ),
    FaultCase("wrong_shape", _wrong_shape, "unavailable"),
)

# --- the flows --------------------------------------------------------------------------


@dataclass
class Seen:
    """What the user saw: the last answer of the flow, and whether it ended signed in."""

    page: Page
    signed_in: bool
    bind_page: bool = False
    oidc_code: str | None = None
    tokens: dict[str, Any] | None = None


@dataclass(frozen=True)
class Flow:
    name: str
    calls: tuple[str, ...]  # every DingTalk call it makes on a cold token cache
    play: Callable[[World, Browser], Awaitable[Seen]]
    space_id: int = 10001
    # When a call fails, the user may still go on by another way (the SMS binding when the
    # DingTalk profile cannot be read): the calls for which that is the right answer.
    falls_back_to_sms: tuple[str, ...] = ()


async def _signed_in(world: World, browser: Browser, space_id: int) -> bool:
    if SESSION_COOKIE not in browser.cookies:
        return False
    home = await browser.get(f"/{space_id}/")
    return home.status == 200 and 'id="signin"' not in home.text


async def _seen(world: World, browser: Browser, page: Page, space_id: int) -> Seen:
    bind_page = page.status == 200 and page.url.endswith(f"/{space_id}/bind")
    return Seen(page, await _signed_in(world, browser, space_id), bind_page)


def in_client(userid: str, space_id: int) -> Callable[[World, Browser], Awaitable[Seen]]:
    async def play(world: World, browser: Browser) -> Seen:
        page = await world.in_client(browser, userid, space_id)
        return await _seen(world, browser, page, space_id)

    return play


def pc_oauth(userid: str, space_id: int) -> Callable[[World, Browser], Awaitable[Seen]]:
    async def play(world: World, browser: Browser) -> Seen:
        page = await world.browser_signin(browser, userid, space_id)
        return await _seen(world, browser, page, space_id)

    return play


async def play_oidc(world: World, browser: Browser) -> Seen:
    """An app's authorization request inside DingTalk: the sign-in (with the binding by the
    DingTalk mobile), the code back to the app, the code exchanged for tokens."""
    client: dict[str, str] = world.oidc_client  # type: ignore[attr-defined]
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    state = secrets.token_urlsafe(8)
    query = urlencode(
        {
            "client_id": client["client_id"],
            "redirect_uri": client["redirect_uri"],
            "response_type": "code",
            "scope": "openid profile",
            "state": state,
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    to_signin = await browser.get(f"/10001/oidc/authorize?{query}")
    assert to_signin.status == 303, to_signin.text
    entry = await browser.get(to_signin.header("location") or "")
    assert entry.status == 200, entry.text
    marker = 'data-next="'
    start = entry.text.index(marker) + len(marker)
    next_value = entry.text[start : entry.text.index('"', start)].replace("&amp;", "&")
    code = world.sim.issue_authcode(DEMO_CORP_ID, "user004")
    answer = await browser.post("/10001/signin/code", json_body={"code": code, "next": next_value})
    if answer.status != 200:
        return await _seen(world, browser, answer, 10001)
    page = await browser.get(answer.json()["next"], follow=True)
    location = page.header("location") or ""
    if not location.startswith(client["redirect_uri"]):
        return await _seen(world, browser, page, 10001)
    got = query_of(location)
    assert got.get("state") == state
    exchanged = await browser.post(
        "/10001/oidc/token",
        {
            "grant_type": "authorization_code",
            "code": got["code"],
            "redirect_uri": client["redirect_uri"],
            "code_verifier": verifier,
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
        },
    )
    seen = await _seen(world, browser, exchanged, 10001)
    seen.oidc_code = got["code"]
    seen.tokens = exchanged.json() if exchanged.status == 200 else None
    return seen


APP_TOKEN_V2 = "/v1.0/oauth2/accessToken"
GETUSERINFO = "/topapi/v2/user/getuserinfo"
USER_GET = "/topapi/v2/user/get"
GETBYUNIONID = "/topapi/user/getbyunionid"

FLOWS: tuple[Flow, ...] = (
    Flow("in_client", (APP_TOKEN_V2, GETUSERINFO), in_client("user001", 10001)),
    Flow("in_client_v1", ("/gettoken", "/user/getuserinfo"), in_client("user001", 10002), 10002),
    Flow(
        "binding",
        (APP_TOKEN_V2, GETUSERINFO, USER_GET),
        in_client("user003", 10001),
        falls_back_to_sms=(USER_GET,),
    ),
    Flow(
        "pc_oauth_v2",
        ("/v1.0/oauth2/userAccessToken", "/v1.0/contact/users/me", APP_TOKEN_V2, GETBYUNIONID),
        pc_oauth("user001", 10001),
    ),
    Flow(
        "pc_oauth_v1",
        ("/sns/getuserinfo_bycode", "/gettoken", GETBYUNIONID),
        pc_oauth("user001", 10002),
        10002,
    ),
    Flow(
        "oidc_authorize",
        (APP_TOKEN_V2, GETUSERINFO, USER_GET),
        play_oidc,
        falls_back_to_sms=(USER_GET,),
    ),
)

# --- a cell -----------------------------------------------------------------------------


@dataclass
class CellResult:
    flow: str
    call: str
    fault: str
    status: int  # of the answer the user saw while the fault lasted
    outcome: str  # "ok", "sms" (sent to the SMS binding), or the refusal reason shown
    recovered: bool  # the same user succeeded once the fault was cleared (no restart)
    problems: list[str] = field(default_factory=list)


@asynccontextmanager
async def matrix_world(data_dir: Path) -> AsyncIterator[World]:
    """A fresh server for one cell: spaces 10001 (V2) and 10002 (V1), user001 bound to the
    first member in both, the policy ``dingtalk_mobile`` on 10001 (user003 and user004 bind
    by their DingTalk mobile), an OIDC app in 10001, and a cold token cache."""
    mp = pytest.MonkeyPatch()
    fast = partial(
        DingTalkClient,
        timeout=CALL_TIMEOUT,
        retry=RetryPolicy(backoff=0.01, max_backoff=0.02),
    )
    mp.setattr(dingtalk_clients, "DingTalkClient", fast)
    try:
        async with open_world(world_settings(data_dir)) as world:
            await _prepare(world)
            yield world
    finally:
        mp.undo()


async def _prepare(world: World) -> None:
    context = world.context
    secret = new_client_secret()
    async with context.db.transaction() as session:
        await set_policy(session, 10001, "dingtalk_mobile", actor="test")
        for space_id in (10001, 10002):
            member = await find_by_mobile(session, space_id, "+8613800000001")
            assert member is not None
            user = world.sim.user(DEMO_CORP_ID, "user001")
            assert user is not None
            identity = DingTalkIdentity(
                corp_id=DEMO_CORP_ID, userid="user001", unionid=user.unionid, name=user.name
            )
            await bind(session, space_id, identity, member, how="test")
        row = SpaceApp(
            space_id=10001,
            title="应用",
            url=f"{APP_URL}/",
            kind="oidc",
            access="all",
            client_id=new_client_id(),
            client_secret_hash=hash_client_secret(secret),
            public_client=False,
            redirect_uris=[f"{APP_URL}/callback"],
            post_logout_redirect_uris=[],
        )
        session.add(row)
        await session.flush()
        client_id = row.client_id
    world.oidc_client = {  # type: ignore[attr-defined]
        "client_id": client_id or "",
        "client_secret": secret,
        "redirect_uri": f"{APP_URL}/callback",
    }
    world.browser.stop_at = (*world.browser.stop_at, APP_URL)
    world.sim.request_log.clear()


async def counts(world: World) -> tuple[int, int]:
    async with world.context.db.transaction() as session:
        members = await session.scalar(select(func.count()).select_from(Member))
        bindings = await session.scalar(select(func.count()).select_from(Binding))
    return int(members or 0), int(bindings or 0)


def messages(language: str) -> dict[str, str]:
    """The refusal messages as a user reading ``language`` sees them."""
    if language == "en":
        return dict(MESSAGES)
    catalog = translations("zh_CN")
    return {reason: catalog.gettext(text) for reason, text in MESSAGES.items()}


def _refusal_reason(page: Page, language: str) -> str | None:
    """The reason the page or JSON answer gives, in ``language``, if it is a sign-in refusal."""
    texts = messages(language)
    content_type = page.header("content-type") or ""
    if content_type.startswith("application/json"):
        body = page.json()
        reason = body.get("error") if isinstance(body, dict) else None
        if reason in MESSAGES and body.get("message") == texts[reason]:
            return str(reason)
        return None
    for reason, text in texts.items():
        if f'data-reason="{reason}"' in page.text and text in page.text:
            return reason
    return None


def new_browser(world: World, language: str = "zh_CN") -> Browser:
    browser = world.new_browser()
    browser.stop_at = world.browser.stop_at
    browser.raise_app_exceptions = False
    if language == "en":
        browser.cookies[LANG_COOKIE] = "en"
    return browser


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def run_cell(flow: Flow, call: str, case: FaultCase, language: str = "zh_CN") -> CellResult:
    with tempfile.TemporaryDirectory() as tmp:
        async with matrix_world(Path(tmp) / "data") as world:
            records = _Records()
            root = logging.getLogger()
            root.addHandler(records)
            level = root.level
            root.setLevel(logging.DEBUG)
            try:
                result = await _run_cell(world, flow, call, case, language)
            finally:
                root.removeHandler(records)
                root.setLevel(level)
            leaked = [s for s in _secrets(world) if any(s in line for line in records.lines)]
            if leaked:
                result.problems.append(f"{len(leaked)} secret(s) in the log")
            return result


def _secrets(world: World) -> list[str]:
    """What must never be logged: the AppSecret, the app's client secret, and every token and
    code the simulator issued during the cell."""
    found = [FULL_APP.app_secret, world.oidc_client["client_secret"]]  # type: ignore[attr-defined]
    found.extend(world.sim.credentials._grants)  # every credential value it issued
    return [s for s in found if len(s) >= 8]


async def _run_cell(
    world: World, flow: Flow, call: str, case: FaultCase, language: str
) -> CellResult:
    problems: list[str] = []
    before = await counts(world)
    world.sim.faults.add(parse_fault(case.fault(call)))
    browser = new_browser(world, language)
    seen = await flow.play(world, browser)
    page = seen.page
    hit = [e for e in world.sim.request_log if e.path == call and e.outcome.startswith("fault")]
    world.sim.faults.clear()
    if case.fault(call)["kind"] != "latency" and not hit:
        problems.append(f"the flow never made the faulted call {call}")
    if page.status >= 500 and page.status not in (502, 503, 504):
        problems.append(f"HTTP {page.status}")
    if "Traceback" in page.text or "Internal Server Error" in page.text:
        problems.append("a traceback or a bare 500 text")
    ok = seen.signed_in
    outcome = "ok" if ok else "sms" if seen.bind_page else (_refusal_reason(page, language) or "?")
    if outcome == "?":
        problems.append(f"no clear message (HTTP {page.status}: {page.text[:120]!r})")
    expected = _expected(flow, call, case)
    if outcome != expected:
        problems.append(f"expected {expected}, saw {outcome}")
    if not ok:
        if SESSION_COOKIE in browser.cookies:
            problems.append("a session cookie after a failed sign-in")
        if seen.oidc_code or seen.tokens:
            problems.append("an OIDC code or token after a failed sign-in")
        if await counts(world) != before:
            problems.append(f"members/bindings changed: {before} -> {await counts(world)}")
    # The fault is gone: the same user, the same server (no restart), a new attempt.
    again = await flow.play(world, new_browser(world))
    recovered = again.signed_in and (flow.name != "oidc_authorize" or bool(again.tokens))
    if not recovered:
        problems.append(f"did not recover: HTTP {again.page.status} {again.page.text[:120]!r}")
    return CellResult(flow.name, call, case.name, page.status, outcome, recovered, problems)


def _expected(flow: Flow, call: str, case: FaultCase) -> str:
    if case.reason is None:
        return "ok"
    if call in flow.falls_back_to_sms:
        return "sms"
    return "dingtalk_" + case.reason


def cells() -> list[tuple[Flow, str, FaultCase]]:
    return [(flow, call, case) for flow in FLOWS for call in flow.calls for case in FAULTS]
