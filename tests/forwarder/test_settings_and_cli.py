"""Settings precedence and validation, the start banner, and `dingbridge nginx-conf`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dingbridge.forwarder.nginx_conf import render_nginx_conf
from dingbridge.forwarder.settings import ForwarderSettings, SettingsError, load_settings

NGINX = "/usr/sbin/nginx"


def test_defaults_match_the_seed() -> None:
    settings = load_settings(env={})
    assert (settings.listen_host, settings.listen_port) == ("0.0.0.0", 888)
    assert settings.oapi == "https://oapi.dingtalk.com"
    assert settings.api == "https://api.dingtalk.com"
    assert settings.caller_token() is None and settings.allow == ()


def test_flags_override_environment_override_toml(tmp_path: Path) -> None:
    config = tmp_path / "forward.toml"
    config.write_text(
        '[forward]\nlisten = "127.0.0.1:9001"\noapi = "https://a.example"\n'
        'allow = ["10.0.0.0/8"]\nread_timeout = 12\n',
        encoding="utf-8",
    )
    env = {
        "DINGBRIDGE_FORWARD_OAPI": "https://b.example",
        "DINGBRIDGE_FORWARD_ALLOW": "192.168.0.0/16, 127.0.0.1",
    }
    settings = load_settings({"listen": "127.0.0.1:9002"}, env=env, config_file=config)
    assert settings.listen == "127.0.0.1:9002"  # flag
    assert settings.oapi == "https://b.example"  # environment
    assert settings.allow == ("192.168.0.0/16", "127.0.0.1")  # environment list
    assert settings.read_timeout == 12.0  # TOML


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(
            {
                "listen": "nope",
                "oapi": "ftp://x",
                "allow": ("not-a-cidr",),
                "source_address": "host.example",
                "ca_file": str(tmp_path / "missing.pem"),
                "token": "a",
                "token_file": str(tmp_path / "t"),
            },
            env={},
        )
    text = " | ".join(info.value.problems)
    for fragment in (
        "HOST:PORT",
        "https://",
        "not-a-cidr",
        "not an IP address",
        "missing.pem",
        "either token",
    ):
        assert fragment in text


def test_unknown_toml_key_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "f.toml"
    config.write_text('lissten = "1"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="lissten"):
        load_settings(env={}, config_file=config)


def test_banner_says_what_goes_where_without_the_token() -> None:
    settings = ForwarderSettings(
        token="zq-secret-77", allow=("10.0.0.0/8",), source_address="192.0.2.7"
    )
    text = settings.describe()
    assert "/oapi-dingtalk-com/*  -> https://oapi.dingtalk.com/*" in text
    assert "/api-dingtalk-com/*   -> https://api.dingtalk.com/*" in text
    assert "192.0.2.7" in text and "10.0.0.0/8" in text and "caller token: required" in text
    assert "zq-secret-77" not in text


def test_forward_rejects_bad_settings_with_exit_2() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "dingbridge", "forward", "--listen", "bad", "--allow", "x/99"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2
    assert "HOST:PORT" in out.stderr and "x/99" in out.stderr


@pytest.mark.skipif(not Path(NGINX).exists() or shutil.which("true") is None, reason="no nginx")
def test_nginx_conf_passes_nginx_t(tmp_path: Path, local_ca_file: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "dingbridge",
            "nginx-conf",
            "--listen",
            "127.0.0.1:18888",
            "--oapi",
            "https://127.0.0.1:9443",
            "--api",
            "https://localhost:9444",
            "--source-address",
            "127.0.0.2",
            "--allow",
            "127.0.0.0/8",
            "--token",
            "abc",
            "--ca-file",
            str(local_ca_file),
            "--access-log",
            str(tmp_path / "access.log"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    conf = out.stdout
    for needle in (
        "keepalive 128;",
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        "proxy_ssl_server_name on;",
        "proxy_ssl_name localhost;",
        "proxy_read_timeout 30s;",
        "location ^~ /oapi-dingtalk-com/",
        "location ^~ /api-dingtalk-com/",
        "location / {",
        "proxy_bind 127.0.0.2;",
        "deny all;",
    ):
        assert needle in conf
    log_format = conf.split("log_format", 1)[1].split(";", 1)[0]
    assert "$uri" in log_format and "$request_uri" not in log_format and "$args" not in log_format
    conf_file = tmp_path / "nginx.conf"
    conf_file.write_text(conf, encoding="utf-8")
    check = subprocess.run(
        [
            NGINX,
            "-t",
            "-p",
            str(tmp_path),
            "-c",
            str(conf_file),
            "-g",
            f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    assert "test is successful" in check.stderr


def test_nginx_conf_refuses_a_token_nginx_cannot_quote() -> None:
    with pytest.raises(ValueError, match="token"):
        render_nginx_conf(ForwarderSettings(token='a"b'))


def test_nginx_conf_keeps_an_upstream_base_path() -> None:
    conf = render_nginx_conf(
        ForwarderSettings(oapi="http://127.0.0.1:9000/sim", api="http://127.0.0.1:9000/sim")
    )
    assert "proxy_pass http://dingtalk_oapi/sim/;" in conf


def test_an_upstream_with_a_login_is_refused_without_echoing_the_password() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({"api": "https://user:hunter2secret@api.example"}, env={})
    text = " | ".join(info.value.problems)
    assert "login" in text
    assert "hunter2secret" not in text
