"""``dingbridge sim``: dump the fixture, serve it, refuse bad fixtures."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP, default_fixture


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dingbridge", "sim", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_dump_fixture_prints_the_default_as_json() -> None:
    out = run("--dump-fixture")
    assert out.returncode == 0
    assert json.loads(out.stdout) == default_fixture()
    assert "示例科技有限公司" in out.stdout  # readable Chinese, not \\u escapes


def test_bad_fixture_file_is_refused_with_reasons(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "corps:\n  - corp_id: x\n    name: X\n    apps: [{app_key: k}]\n", encoding="utf-8"
    )
    out = run("--fixture", str(path))
    assert out.returncode == 2
    assert "app_secret" in out.stderr and "agent_id" in out.stderr
    missing = run("--fixture", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "nope.json" in missing.stderr


def test_serves_a_fixture_file(tmp_path: Path) -> None:
    fixture = default_fixture()
    fixture["corps"][0]["name"] = "文件里的公司"
    path = tmp_path / "world.json"
    path.write_text(json.dumps(fixture, ensure_ascii=False), encoding="utf-8")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "dingbridge", "sim", "--port", str(port), "--fixture", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_sim/", timeout=2) as response:
                    page = response.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, "dingbridge sim did not start"
                time.sleep(0.05)
        assert "文件里的公司" in page
        query = f"appkey={FULL_APP.app_key}&appsecret={FULL_APP.app_secret}"
        with urllib.request.urlopen(f"{base}/gettoken?{query}", timeout=5) as response:
            assert json.loads(response.read())["errcode"] == 0
        with urllib.request.urlopen(f"{base}/_sim/fixture", timeout=5) as response:
            assert json.loads(response.read())["corps"][0]["corp_id"] == DEMO_CORP_ID
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=10)
    output = (stdout + stderr).decode()
    assert "GET /gettoken app=dingfullaccess0001ab peer=127.0.0.1 -> ok" in output
    assert FULL_APP.app_secret not in output
