"""`dingbridge app nginx-conf`: what it prints, that nginx accepts it, and its clear errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from dingbridge.cli import app as cli_app
from dingbridge.gate.nginx_conf import GateConf, render_gate_nginx_conf
from dingbridge.settings import Settings
from dingbridge.spaces.headless import run_in_transaction
from dingbridge.spaces.store import create_space
from dingbridge.storage.models import SpaceApp
from tests.gate.live_gate import NGINX


def conf(**changes: object) -> GateConf:
    values: dict[str, object] = {
        "space_id": 10001,
        "app_id": 7,
        "app_url": "http://apps.example.com:8080/wiki/",
        "listen": "0.0.0.0:8080",
        "upstream": "http://127.0.0.1:3000",
        "dingbridge": "http://id.example.com",
    }
    values.update(changes)
    return GateConf(**values)  # type: ignore[arg-type]


def test_the_app_s_path_is_checked_and_the_rest_is_not_served() -> None:
    text = render_gate_nginx_conf(conf())
    assert "location ^~ /wiki/ {" in text and "return 404;" in text
    assert "proxy_pass http://dingbridge_gate/_dingbridge/auth/10001/7;" in text
    assert "proxy_set_header Host id.example.com;" in text
    assert "proxy_pass http://dingbridge_app;" in text
    for header in ("X-Auth-Request-User", "X-Auth-Request-Groups", "X-Dingbridge-Userid"):
        assert f"proxy_set_header {header} $dingbridge_" in text
    assert "proxy_set_header Cookie $dingbridge_cookie;" in text


def test_an_app_at_the_root_and_an_upstream_with_a_path() -> None:
    text = render_gate_nginx_conf(
        conf(app_url="https://wiki.example.com/", upstream="http://10.0.0.5:3000/base/")
    )
    assert "location / {" in text and "return 404;" not in text
    assert "proxy_pass http://dingbridge_app/base/;" in text


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"listen": "eighty"}, "--listen"),
        ({"upstream": "ftp://127.0.0.1"}, "--upstream"),
        ({"upstream": "http://127.0.0.1:3000/a;b"}, "--upstream"),
        ({"dingbridge": "http://user:pw@id.example.com"}, "--dingbridge"),
        ({"dingbridge": "http://id.example.com/$x"}, "--dingbridge"),
        ({"app_url": "apps.example.com/wiki"}, "the app's URL"),
    ],
)
def test_bad_options_are_named(change: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named.replace("$", r"\$")):
        render_gate_nginx_conf(conf(**change))


@pytest.mark.skipif(not Path(NGINX).exists(), reason="no nginx")
@pytest.mark.parametrize(
    "variant",
    [
        {"dingbridge": "http://localhost:8000"},
        {"app_url": "https://wiki.example.com/", "dingbridge": "https://127.0.0.1:8443/db"},
        {
            "listen": "[::1]:8081",
            "upstream": "http://[::1]:3000/base",
            "dingbridge": "http://127.0.0.1:8000",
        },
    ],
)
def test_nginx_accepts_it(tmp_path: Path, variant: dict[str, str]) -> None:
    conf_file = tmp_path / "nginx.conf"
    conf_file.write_text(render_gate_nginx_conf(conf(**variant)), encoding="utf-8")
    check = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(conf_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr


def _space_with_apps(data: Path) -> tuple[int, int]:
    async def work(session: AsyncSession) -> tuple[int, int]:
        space = await create_space(session, "示例空间", actor="test")
        gated = SpaceApp(
            space_id=space.id, title="维基", url="http://a.test/wiki/", kind="forward_auth"
        )
        link = SpaceApp(space_id=space.id, title="链接", url="http://a.test/x", kind="link")
        session.add_all([gated, link])
        await session.flush()
        return gated.id, link.id

    return run_in_transaction(Settings(data_dir=data), work)


def test_the_command_prints_the_conf_or_says_what_is_wrong(tmp_path: Path) -> None:
    data = tmp_path / "data"
    gated, link = _space_with_apps(data)
    runner = CliRunner()
    options = ["--listen", "127.0.0.1:8080", "--upstream", "http://127.0.0.1:3000"]
    options += ["--dingbridge", "http://127.0.0.1:8000", "--data-dir", str(data)]
    done = runner.invoke(cli_app, ["app", "nginx-conf", str(gated), *options])
    assert done.exit_code == 0, done.output
    assert f"proxy_pass http://dingbridge_gate/_dingbridge/auth/10001/{gated};" in done.stdout
    refused = runner.invoke(cli_app, ["app", "nginx-conf", str(link), *options])
    assert refused.exit_code == 1 and "not a forward-auth app" in refused.output
    missing = runner.invoke(cli_app, ["app", "nginx-conf", "999", *options])
    assert missing.exit_code == 1 and "There is no app 999." in missing.output
    bad = runner.invoke(cli_app, ["app", "nginx-conf", str(gated), *options, "--listen", "x"])
    assert bad.exit_code == 1 and "--listen" in bad.output
