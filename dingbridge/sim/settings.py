"""Tunable simulator behaviour. A fixture may override any of these under ``"settings"``."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass
class SimSettings:
    token_lifetime: int = 7200
    """Seconds an app access token lives (sliding: each fetch while valid extends it)."""
    jsapi_ticket_lifetime: int = 7200
    """Seconds a JSAPI ticket lives (sliding, but at most ``jsapi_ticket_max_age``)."""
    jsapi_ticket_max_age: int = 86400
    authcode_lifetime: int = 300
    """免登 codes (requestAuthCode, /_sim/authcode): 5 minutes, single use."""
    oauth_code_lifetime: int = 300
    """Browser OAuth authCode and V1 tmp_auth_code lifetime (not documented by DingTalk)."""
    user_token_lifetime: int = 7200
    refresh_token_lifetime: int = 30 * 86400
    qps_limit: int = 20
    """Calls per second per app per API before 90018 / QpsLimitForAppkeyAndApi; 0 disables."""
    check_ip_on_gettoken: bool = True
    """Whether gettoken / oauth2/accessToken themselves are IP-checked (unconfirmed upstream)."""
    sns_timestamp_window: int = 60
    """Seconds a getuserinfo_bycode ``timestamp`` may differ from the simulator's clock."""
    request_log_size: int = 5000
    callback_retries: int = 3
    """HTTP event push: retries after a failed push (no answer, not the encrypted success)."""
    callback_retry_interval: int = 1
    """Seconds before the first retry of a failed push; each later retry waits twice as long."""
    stream_ping_interval: int = 30
    """Seconds between the Stream gateway's SYSTEM ``ping`` frames on an idle connection."""

    def update(self, values: dict[str, Any]) -> list[str]:
        """Apply known keys from ``values``; return problems (unknown keys, wrong types)."""
        problems = []
        known = {f.name: f for f in fields(self)}
        for key, value in values.items():
            if key not in known:
                problems.append(f"settings.{key}: unknown setting")
                continue
            current = getattr(self, key)
            if isinstance(current, bool):
                if not isinstance(value, bool):
                    problems.append(f"settings.{key}: expected true or false")
                    continue
            elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
                problems.append(f"settings.{key}: expected a non-negative integer")
                continue
            setattr(self, key, value)
        return problems
