"""Tunable simulator behaviour. A fixture may override any of these under ``"settings"``.

Declared like the server's and the forwarder's settings (:mod:`dingbridge.setting_fields`);
they come from the fixture only, not from the environment or the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dingbridge.setting_fields import declared, setting


def _sim(default: Any, help_text: str) -> Any:
    return setting(default, help_text, env=False, cli=False)


@dataclass
class SimSettings:
    token_lifetime: int = _sim(
        7200, "Seconds an app access token lives (sliding: each fetch while valid extends it)."
    )
    jsapi_ticket_lifetime: int = _sim(
        7200, "Seconds a JSAPI ticket lives (sliding, but at most jsapi_ticket_max_age)."
    )
    jsapi_ticket_max_age: int = _sim(86400, "Seconds a JSAPI ticket lives at most.")
    authcode_lifetime: int = _sim(
        300, "Seconds a 免登 code (requestAuthCode, /_sim/authcode) lives; single use."
    )
    oauth_code_lifetime: int = _sim(
        300, "Browser OAuth authCode and V1 tmp_auth_code lifetime (not documented by DingTalk)."
    )
    user_token_lifetime: int = _sim(7200, "Seconds a user access token lives.")
    refresh_token_lifetime: int = _sim(30 * 86400, "Seconds a refresh token lives.")
    qps_limit: int = _sim(
        20, "Calls per second per app per API before 90018 / QpsLimitForAppkeyAndApi; 0 disables."
    )
    check_ip_on_gettoken: bool = _sim(
        True, "Whether gettoken / oauth2/accessToken themselves are IP-checked (unconfirmed)."
    )
    sns_timestamp_window: int = _sim(
        60, "Seconds a getuserinfo_bycode timestamp may differ from the simulator's clock."
    )
    request_log_size: int = _sim(5000, "Requests the simulator keeps in its log.")
    callback_retries: int = _sim(
        3, "HTTP event push: retries after a failed push (no answer, not the encrypted success)."
    )
    callback_retry_interval: int = _sim(
        1, "Seconds before the first retry of a failed push; each later retry waits twice as long."
    )
    stream_ping_interval: int = _sim(
        30, "Seconds between the Stream gateway's SYSTEM ping frames on an idle connection."
    )

    def update(self, values: dict[str, Any]) -> list[str]:
        """Apply known keys from ``values``; return problems (unknown keys, wrong types)."""
        problems = []
        known = {item.name: item for item in declared(type(self))}
        for key, value in values.items():
            item = known.get(key)
            if item is None:
                problems.append(f"settings.{key}: unknown setting")
                continue
            if item.type is bool:
                if not isinstance(value, bool):
                    problems.append(f"settings.{key}: expected true or false")
                    continue
            elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
                problems.append(f"settings.{key}: expected a non-negative integer")
                continue
            setattr(self, key, value)
        return problems
