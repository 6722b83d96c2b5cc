"""One key per purpose, derived from the server's secret key: a value signed for one purpose
never passes for another, and another server secret gives other keys."""

from __future__ import annotations

import pytest

from dingbridge.keys import SignInKeys, derive_key
from dingbridge.kv.memory import MemoryKV
from dingbridge.signin import oauth_state

SECRET = "a-server-secret-key-of-some-length"


def test_each_purpose_gets_its_own_key() -> None:
    keys = SignInKeys.derive(SECRET)
    values = [keys.oauth_state, keys.logout_form, keys.bind_form, keys.codes]
    assert len(set(values)) == 4
    assert all(len(value) == 32 for value in values)
    assert SignInKeys.derive(SECRET) == keys  # stable across restarts and instances
    assert SignInKeys.derive(SECRET + "x").oauth_state != keys.oauth_state
    assert SECRET.encode() not in values


async def test_a_state_cookie_signed_for_another_purpose_is_refused() -> None:
    keys = SignInKeys.derive(SECRET)
    started = oauth_state.start(keys.logout_form, 10001, "/10001/")
    with pytest.raises(oauth_state.StateInvalid):
        await oauth_state.finish(keys.oauth_state, MemoryKV(), started.cookie, started.state, 10001)
    good = oauth_state.start(keys.oauth_state, 10001, "/10001/")
    assert (
        await oauth_state.finish(keys.oauth_state, MemoryKV(), good.cookie, good.state, 10001)
        == "/10001/"
    )


def test_a_purpose_is_required() -> None:
    with pytest.raises(ValueError, match="purpose"):
        derive_key(SECRET, "")
