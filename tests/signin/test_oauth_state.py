"""The OAuth state is bound to the browser's signed cookie, its space, a 10-minute life and
one use."""

from __future__ import annotations

import pytest

from dingbridge.kv.memory import MemoryKV
from dingbridge.signin import oauth_state
from dingbridge.signin.oauth_state import StateInvalid

KEY = b"k" * 32
NOW = 1_800_000_000.0


async def test_the_right_state_returns_the_destination_once() -> None:
    kv = MemoryKV()
    started = oauth_state.start(KEY, 10001, "/10001/apps", now=NOW)
    assert await oauth_state.finish(KEY, kv, started.cookie, started.state, 10001, now=NOW + 5) == (
        "/10001/apps"
    )
    with pytest.raises(StateInvalid, match="used"):
        await oauth_state.finish(KEY, kv, started.cookie, started.state, 10001, now=NOW + 6)


@pytest.mark.parametrize(
    "change",
    ["other state", "other space", "too late", "forged cookie", "other key", "garbage cookie"],
)
async def test_anything_else_is_refused(change: str) -> None:
    kv = MemoryKV()
    started = oauth_state.start(KEY, 10001, "/10001/", now=NOW)
    cookie, state, space, now, key = started.cookie, started.state, 10001, NOW + 5, KEY
    if change == "other state":
        state = oauth_state.start(KEY, 10001, "/10001/", now=NOW).state
    elif change == "other space":
        space = 10002
    elif change == "too late":
        now = NOW + oauth_state.STATE_LIFETIME + 1
    elif change == "forged cookie":
        forged = oauth_state.start(b"x" * 32, 10001, "/10001/", now=NOW)
        cookie, state = forged.cookie, forged.state
    elif change == "other key":
        key = b"y" * 32
    else:
        cookie = "not-a-cookie"
    with pytest.raises(StateInvalid):
        await oauth_state.finish(key, kv, cookie, state, space, now=now)
