"""Instructions per forwarded request, counted by valgrind (callgrind): repeatable on a busy
machine, unlike CPU time. `perf stat -e instructions` needs a hardware counter, which VMs often
lack; callgrind counts user-space instructions (the kernel's share of the syscalls is not in it).

    .venv/bin/python bench/forwarder/instructions.py [--requests 4000] [--connections 64]
                                                    [--targets dingbridge,tuned] [--keep]

For each target (run under callgrind, one after the other, against the same HTTPS nginx upstream
on loopback): warm up, zero the counters, send exactly N GET requests over C keep-alive
connections, dump; prints instructions per request. The callgrind files stay in the printed
folder (`callgrind_annotate FILE | head -60` shows where the instructions go, C and Python
interpreter functions alike).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import (  # noqa: E402
    GET_PATH,
    NGINX,
    ROOT,
    UPSTREAM_BODY,
    UPSTREAM_CONF,
    free_port,
    start_nginx,
    wait_port,
)
from tls_material import write_tls_material  # noqa: E402

from dingbridge.forwarder.nginx_conf import render_nginx_conf  # noqa: E402
from dingbridge.forwarder.settings import ForwarderSettings  # noqa: E402


async def _client(port: int, path: str, count: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()
    while count[0] > 0:
        count[0] -= 1
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await reader.readexactly(length)
    writer.close()


def send_requests(port: int, requests: int, connections: int) -> float:
    """Exactly ``requests`` GETs over ``connections`` keep-alive connections; seconds taken."""

    async def main() -> None:
        count = [requests]
        await asyncio.gather(*(_client(port, GET_PATH, count) for _ in range(connections)))

    started = time.perf_counter()
    asyncio.run(main())
    return time.perf_counter() - started


def callgrind_total(out_file: Path) -> int:
    for line in out_file.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {out_file}")


def handshake_calls(out_file: Path) -> int:
    """Calls of SSL_do_handshake in a callgrind file (new upstream connections: should be 0)."""
    text = out_file.read_text()
    ids = {line.split()[0].split("=")[1] for line in text.splitlines()
           if line.startswith(("fn=", "cfn=")) and line.endswith(" SSL_do_handshake")}  # fmt: skip
    calls, target = 0, False
    for line in text.splitlines():
        if line.startswith("cfn="):
            target = line.split()[0].split("=")[1] in ids
        elif line.startswith("calls=") and target:
            calls += int(line.split("=")[1].split()[0])
    return calls


def handshake_instructions(out_file: Path) -> int:
    """Instructions spent inside SSL handshakes (inclusive), from callgrind_annotate."""
    text = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--auto=no", "--threshold=100", str(out_file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in text.splitlines():
        if line.rstrip().endswith("SSL_do_handshake [" + line.rsplit("[", 1)[-1]) or (
            ":SSL_do_handshake " in line
        ):
            return int(line.split()[0].replace(",", ""))
    return 0


def measure(
    name: str, command: list[str], port: int, work: Path, requests: int, connections: int
) -> int:
    out = work / f"{name}.callgrind"
    process = subprocess.Popen(
        [
            "taskset",
            "-c",
            "0",
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            *command,
        ],
        cwd=ROOT,
        stdout=open(work / f"{name}.stdout", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    try:
        wait_port(port, timeout=120)
        for _ in range(2):  # warm up: every pooled upstream connection open, caches filled
            send_requests(port, max(500, requests // 4), connections)
        pid = str(process.pid)
        subprocess.run(["callgrind_control", "-z", pid], check=True, capture_output=True)
        seconds = send_requests(port, requests, connections)
        subprocess.run(["callgrind_control", "-d", pid], check=True, capture_output=True)
    finally:
        process.terminate()
        process.wait(timeout=60)
    dumps = sorted(work.glob(f"{name}.callgrind.*"), key=lambda p: p.stat().st_mtime)
    total = callgrind_total(dumps[-2] if len(dumps) > 1 else dumps[-1])
    handshakes = handshake_calls(dumps[-2] if len(dumps) > 1 else dumps[-1])
    if handshakes:  # the pool grew past its warm-up size: not a per-request cost, taken out
        spent = handshake_instructions(dumps[-2] if len(dumps) > 1 else dumps[-1])
        print(
            f"  ({name}: {handshakes} TLS handshake calls in the window, {spent:,} "
            "instructions, not counted)"
        )
        total -= spent
    per = total // requests
    print(
        f"{name:12} {per:>10,} instructions/request  ({requests} requests in {seconds:.1f}s "
        f"under valgrind; profile: {dumps[-2] if len(dumps) > 1 else dumps[-1]})",
        flush=True,
    )
    return per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--targets", default="dingbridge,tuned")
    args = parser.parse_args()
    # Under valgrind the forwarder runs ~30x slower: keep pooled connections that wait longer
    # than usual from being swept (a new TLS handshake inside the count is not per request).
    os.environ["DINGBRIDGE_FORWARD_IDLE_TIMEOUT"] = "3600"
    work = Path(tempfile.mkdtemp(prefix="dingbridge-instr-"))
    work.chmod(0o755)
    ca, cert, key = write_tls_material(work)
    up, plain = free_port(), free_port()
    upstream = start_nginx(
        work,
        "upstream",
        UPSTREAM_CONF.format(
            work=work, port=up, plain=plain, cert=cert, key=key, body=UPSTREAM_BODY
        ),
        cpu=1,
    )
    results: dict[str, int] = {}
    try:
        wait_port(up)
        for target in args.targets.split(","):
            port = free_port()
            if target in ("dingbridge", "dingbridge-http"):
                base = (
                    f"https://localhost:{up}"
                    if target == "dingbridge"
                    else (f"http://127.0.0.1:{plain}")
                )
                command = [sys.executable, "-m", "dingbridge", "forward", "--listen",
                           f"127.0.0.1:{port}", "--oapi", base, "--api", base, "--ca-file",
                           str(ca), "--access-log", str(work / f"{target}-access.log")]  # fmt: skip
            elif target == "floor":  # bytes copied both ways, no HTTP logic: see relay_floor.py
                command = [
                    sys.executable,
                    str(HERE / "relay_floor.py"),
                    str(port),
                    str(up),
                    str(ca),
                ]
            elif target == "tuned":
                settings = ForwarderSettings(
                    listen=f"127.0.0.1:{port}",
                    oapi=f"https://localhost:{up}",
                    api=f"https://localhost:{up}",
                    ca_file=str(ca),
                )
                conf = render_nginx_conf(settings, access_log=str(work / "tuned-access.log"))
                conf = conf.replace("worker_processes auto;", "worker_processes 1;")
                conf = conf.replace(
                    "worker_processes 1;",
                    f"worker_processes 1;\npid {work}/tuned.pid;\n"
                    f"error_log {work}/tuned-error.log;",
                )
                conf_file = work / "tuned.conf"
                conf_file.write_text(conf, encoding="utf-8")
                (work / "tuned" / "logs").mkdir(parents=True, exist_ok=True)
                command = [NGINX, "-p", str(work / "tuned"), "-c", str(conf_file), "-g",
                           "daemon off; master_process off;"]  # fmt: skip
            else:
                raise SystemExit(f"unknown target {target}")
            results[target] = measure(target, command, port, work, args.requests, args.connections)
    finally:
        upstream.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            upstream.wait(timeout=10)
    if "dingbridge" in results and "tuned" in results:
        print(f"dingbridge / tuned nginx: {results['dingbridge'] / results['tuned']:.2f}x")
    print(f"(work files: {work})")


if __name__ == "__main__":
    main()
