"""Brute force on verification codes and on the admin login, with two server instances sharing
one Redis (the ``two_worlds`` fixture: two apps in-process), requests alternating between them
and fired in parallel (a check-then-count limit let parallel requests through together: the
limits are now counted first, ``dingbridge/ratelimit.py``).

What an attacker gets, from the configured limits (``CodePolicy``, ``web/console/login.py``):

- SMS codes: 6 digits; 5 tries per code; 10 codes per mobile number per day (all spaces);
  50 codes per client IP per day. Per number per day: 10 x 5 = **50 guesses** (a chance of
  50 in 10^6 = 1 in 20,000 of finding that day's code); per IP per day: 50 x 5 = **250 guesses**.
- Admin login: 5 failed tries per user name and 30 tries per IP per 15 minutes: per user name
  **480 guesses a day**, per IP **2,880 a day** (a correct password resets the name's count).
"""

from __future__ import annotations

import asyncio

from dingbridge.signin.codes import CodePolicy, CodeService
from dingbridge.web.console.login import LOGIN_LIMIT_PER_IP, LOGIN_LIMIT_PER_USER, LOGIN_WINDOW
from tests.signin.signin_world import World, admin_browser

DAY = 24 * 3600
MOBILE = "+8613800000001"


def _codes(worlds: tuple[World, World]) -> list[CodeService]:
    return [world.context.signin.codes for world in worlds]


def test_the_stated_numbers_follow_from_the_limits() -> None:
    codes = CodePolicy()
    assert codes.daily_per_mobile * codes.max_tries == 50
    assert codes.daily_per_ip * codes.max_tries == 250
    assert 10**codes.length // (codes.daily_per_mobile * codes.max_tries) == 20_000
    windows = DAY // LOGIN_WINDOW
    assert LOGIN_LIMIT_PER_USER * windows == 480 and LOGIN_LIMIT_PER_IP * windows == 2880


async def test_guesses_per_mobile_per_day_are_50_across_instances(
    two_worlds: tuple[World, World],
) -> None:
    services = _codes(two_worlds)
    # Parallel sends for one number in 30 spaces (the cool-down is per space), both instances.
    sends = await asyncio.gather(
        *(services[i % 2].send(20000 + i, MOBILE, f"10.0.0.{i}") for i in range(30))
    )
    sent = [20000 + i for i, result in enumerate(sends) if result.ok]
    assert len(sent) == 10
    assert {r.status for r in sends} == {"sent", "mobile_limit"}
    guesses = 0
    for space in sent:
        answers = [(await services[k % 2].verify(space, MOBILE, "000000")) for k in range(6)]
        assert [a.status for a in answers] == ["wrong"] * 4 + ["dead", "dead"]
        guesses += 5  # the sixth is refused unchecked
    assert guesses == 50


async def test_codes_per_ip_per_day_are_50_across_instances(
    two_worlds: tuple[World, World],
) -> None:
    services = _codes(two_worlds)
    sends = await asyncio.gather(
        *(services[i % 2].send(10001, f"+86139{i:08d}", "10.9.9.9") for i in range(60))
    )
    assert sum(result.ok for result in sends) == 50  # x 5 tries = 250 guesses
    assert {r.status for r in sends} == {"sent", "ip_limit"}


async def test_admin_login_guesses_hold_across_instances(two_worlds: tuple[World, World]) -> None:
    first, second = two_worlds
    await admin_browser(first)  # creates the admin
    browsers = [first.new_browser("10.1.1.1"), second.new_browser("10.1.1.1")]
    pages = [await browser.get("/admin/login") for browser in browsers]

    async def guess(i: int, username: str = "admin") -> int:
        form = {"csrf_token": pages[i % 2].csrf(), "username": username, "password": f"x{i}"}
        return (await browsers[i % 2].post("/admin/login", form)).status

    statuses = await asyncio.gather(*(guess(i) for i in range(20)))
    assert statuses.count(401) == LOGIN_LIMIT_PER_USER and statuses.count(429) == 15
    others = await asyncio.gather(*(guess(i, f"user{i}") for i in range(40)))
    # the IP's 30 tries: 5 already spent on "admin"
    assert others.count(401) == LOGIN_LIMIT_PER_IP - LOGIN_LIMIT_PER_USER
    assert others.count(429) == 40 - others.count(401)
