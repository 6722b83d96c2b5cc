"""``dingbridge space …``: a change of one DingTalk field changes that field only."""

from __future__ import annotations

import json

from tests.commands.conftest import Cli

CONFIGURE = [
    "space",
    "dingtalk",
    "10001",
    "--corp-name",
    "示例科技有限公司",
    "--corp-id",
    "ding5f2a7c31e08b4d96",
    "--agent-id",
    "3001001",
    "--app-key",
    "dingfullaccess0001ab",
    "--app-secret-stdin",
    "--api-version",
    "v1",
    "--forward-url",
    "http://127.0.0.2:888/api-dingtalk-com/",
    "--enable",
]


def _saved(cli: Cli) -> dict[str, object]:
    result = cli("space", "show", "10001", "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def _configured(cli: Cli) -> dict[str, object]:
    assert cli("space", "create", "--name", "销售部").stdout.strip() == "10001"
    result = cli(*CONFIGURE, input="sim-secret-full-0001\n")
    assert result.exit_code == 0, result.output
    return _saved(cli)


def test_clearing_the_forward_url_keeps_every_other_field(cli: Cli) -> None:
    before = _configured(cli)
    result = cli("space", "dingtalk", "10001", "--forward-url", "")
    assert result.exit_code == 0, result.output
    after = _saved(cli)
    assert after["forward_url"] is None
    assert {k: v for k, v in after.items() if k not in ("forward_url", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("forward_url", "updated_at")
    }
    assert after["corp_id"] == "ding5f2a7c31e08b4d96" and after["api_version"] == "v1"
    assert after["enabled"] is True and after["app_secret_set"] is True


def test_one_option_changes_one_field(cli: Cli) -> None:
    before = _configured(cli)
    assert cli("space", "dingtalk", "10001", "--corp-name", "新名称").exit_code == 0
    after = _saved(cli)
    assert after["corp_name"] == "新名称"
    assert after["forward_url"] == before["forward_url"] and after["app_key"] == before["app_key"]
    assert cli("space", "dingtalk", "10001", "--disable").exit_code == 0
    assert _saved(cli)["enabled"] is False and _saved(cli)["corp_id"] == before["corp_id"]


def test_a_refused_change_loses_nothing(cli: Cli) -> None:
    before = _configured(cli)
    result = cli("space", "dingtalk", "10001", "--corp-id", "")  # required while enabled
    assert result.exit_code == 1 and "corp_id" in result.output
    after = _saved(cli)
    assert after == before
