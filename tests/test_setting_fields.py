"""One settings mechanism: the server's, the forwarder's and the simulator's settings are each
declared once (type, default, help, environment variable) and loaded the same way."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dingbridge.forwarder.settings import ForwarderSettings, load_settings
from dingbridge.setting_fields import declared, find
from dingbridge.settings import Settings
from dingbridge.sim.settings import SimSettings


@pytest.mark.parametrize("cls", [Settings, ForwarderSettings, SimSettings])
def test_every_setting_is_declared_with_its_help(cls: type) -> None:
    names = [item.name for item in declared(cls)]
    assert names == [f.name for f in dataclasses.fields(cls)]
    for item in declared(cls):
        assert item.spec.help.strip().endswith((".", ")")), item.name


def test_the_two_forwarder_tokens_say_their_roles() -> None:
    names = {item.name for item in declared(Settings)}
    assert {"forward_address_token", "forwarder_caller_token"} <= names
    assert not {"forward_token", "forwarder_token"} & names
    # Secrets are environment-only: never an option, so never in a process list.
    assert not find(Settings, "forward_address_token").spec.cli
    assert not find(Settings, "forwarder_caller_token").spec.cli
    assert not find(Settings, "secret_key").spec.cli


def test_the_former_token_variables_still_work() -> None:
    old = Settings.load(
        {}, {"DINGBRIDGE_FORWARD_TOKEN": "sent-token", "DINGBRIDGE_FORWARDER_TOKEN": "asked"}
    )
    assert (old.forward_address_token, old.forwarder_caller_token) == ("sent-token", "asked")
    new = Settings.load(
        {},
        {
            "DINGBRIDGE_FORWARD_ADDRESS_TOKEN": "new",
            "DINGBRIDGE_FORWARD_TOKEN": "old",
        },
    )
    assert new.forward_address_token == "new"  # the current name wins


def test_values_are_parsed_by_their_declared_type(tmp_path: Path) -> None:
    settings = Settings.load({}, {"DINGBRIDGE_DATA_DIR": str(tmp_path), "DINGBRIDGE_PORT": "81"})
    assert settings.data_dir == tmp_path and settings.port == 81
    forwarder = load_settings(
        env={"DINGBRIDGE_FORWARD_READ_TIMEOUT": "2.5", "DINGBRIDGE_FORWARD_ALLOW": "10.0.0.0/8"}
    )
    assert forwarder.read_timeout == 2.5 and forwarder.allow == ("10.0.0.0/8",)


def test_every_bad_value_of_every_layer_is_listed(tmp_path: Path) -> None:
    from dingbridge.forwarder.settings import SettingsError

    config = tmp_path / "f.toml"
    config.write_text('workers = "many"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as failed:
        load_settings(
            {"pool_size": "lots"},
            env={"DINGBRIDGE_FORWARD_READ_TIMEOUT": "slow"},
            config_file=config,
        )
    text = " | ".join(failed.value.problems)
    assert len(failed.value.problems) == 3
    assert "workers" in text and "DINGBRIDGE_FORWARD_READ_TIMEOUT" in text and "pool_size" in text


def test_the_simulator_settings_keep_their_checks() -> None:
    sim = SimSettings()
    problems = sim.update(
        {"qps_limit": -1, "check_ip_on_gettoken": 1, "nope": 3, "token_lifetime": 5}
    )
    assert len(problems) == 3 and sim.token_lifetime == 5
