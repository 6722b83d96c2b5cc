"""Run the checks in the vendor guide's order on a plain :class:`DoctorConfig`.

No web framework, no database: :mod:`dingbridge.doctor.space_checks` loads a space's stored
settings and calls :func:`run_checks`. A check that an earlier failure makes meaningless is
``skip``, with the reason.
"""

from __future__ import annotations

import logging

from dingbridge.doctor.checks_app import (
    check_agent_id,
    check_api_version,
    check_corp_id,
    check_credentials,
    check_ip_whitelist,
)
from dingbridge.doctor.checks_permissions import check_permissions
from dingbridge.doctor.checks_reach import check_home_url, check_network
from dingbridge.doctor.config import DoctorConfig, check_config, config_usable
from dingbridge.doctor.probe import Probe
from dingbridge.doctor.results import CheckResult, Message, Status

__all__ = ["CHECK_ORDER", "run_checks"]

log = logging.getLogger(__name__)

CHECK_ORDER = (
    "config",
    "network",
    "credentials",
    "ip_whitelist",
    "permissions",
    "agent_id",
    "corp_id",
    "home_url",
    "api_version",
)

_AFTER_CONFIG = Message(
    "The settings are incomplete, DingTalk cannot be called (fix check 1 first)."
)
_AFTER_NETWORK = Message(
    "DingTalk cannot be reached, so this cannot be checked (fix check 2 first)."
)
_AFTER_CREDENTIALS = Message(
    "No access token was obtained, so this cannot be checked (fix check 3 first)."
)
_AFTER_IP = Message(
    "The egress IP is not whitelisted, DingTalk refuses every call (fix check 4 first)."
)


def _skip_all(ids: tuple[str, ...], cause: Message) -> list[CheckResult]:
    return [CheckResult.skipped(check_id, cause) for check_id in ids]


async def run_checks(config: DoctorConfig) -> list[CheckResult]:
    """Every check, in order; each result says pass, fail, warn or skip."""
    results = [check_config(config)]
    dingtalk_ids = CHECK_ORDER[1:7]
    if not config_usable(config):
        results += _skip_all(dingtalk_ids, _AFTER_CONFIG)
        results.append(await check_home_url(config))
        results += _skip_all(("api_version",), _AFTER_CONFIG)
        return results
    probe = Probe.open(config)
    try:
        results += await _dingtalk_checks(probe)
        results.append(await check_home_url(config))
        if any(r.id == "network" and r.failed for r in results):
            results += _skip_all(("api_version",), _AFTER_NETWORK)
        else:
            results.append(await check_api_version(probe))
    finally:
        await probe.aclose()
    for result in results:
        log.info("doctor %s: %s %s", result.id, result.status.value, result.detail)
    return results


async def _dingtalk_checks(probe: Probe) -> list[CheckResult]:
    network = await check_network(probe)
    if network.failed:
        return [network, *_skip_all(CHECK_ORDER[2:7], _AFTER_NETWORK)]
    credentials = await check_credentials(probe)
    results = [network, credentials]
    ip = await check_ip_whitelist(probe) if credentials.status is not Status.FAIL else None
    if ip is None:
        return results + _skip_all(CHECK_ORDER[3:7], _AFTER_CREDENTIALS)
    results.append(ip)
    if ip.failed:
        return results + _skip_all(CHECK_ORDER[4:7], _AFTER_IP)
    if probe.token is None:
        return results + _skip_all(CHECK_ORDER[4:7], _AFTER_CREDENTIALS)
    results.append(await check_permissions(probe))
    results.append(await check_agent_id(probe))
    corp_shape_ok = probe.config.corp_id.strip().startswith("ding")
    if corp_shape_ok:
        results.append(await check_corp_id(probe))
    else:
        results.append(
            CheckResult.skipped(
                "corp_id",
                Message("企业ID is missing or malformed (check 1)."),
            )
        )
    return results
