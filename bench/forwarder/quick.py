"""Quick paired check at one concurrency: tuned nginx vs `dingbridge forward`, interleaved.

    .venv/bin/python bench/forwarder/quick.py [--connections 64] [--duration 3] [--rounds 3]
                                              [--method GET]

Prints, per round, req/s and CPU µs per request split into user and system time (from
/proc/PID/stat), and the best round's ratio. The full report is `run.py`; this is for iterating.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import (  # noqa: E402
    CLK_TCK,
    GET_PATH,
    POST_PATH,
    UPSTREAM_BODY,
    UPSTREAM_CONF,
    free_port,
    process_tree,
    run_wrk,
    start_forwarder,
    start_nginx,
    start_proxies,
    wait_port,
)
from tls_material import write_tls_material  # noqa: E402


def cpu_split(pids: list[int]) -> tuple[float, float]:
    user = system = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            user += int(fields[11])
            system += int(fields[12])
    return user / CLK_TCK, system / CLK_TCK


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--method", default="GET", choices=("GET", "POST"))
    parser.add_argument("--http", action="store_true", help="add dingbridge with a plain upstream")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dingbridge-quick-"))
    work.chmod(0o755)
    ca, cert, key = write_tls_material(work)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        up, plain = free_port(), free_port()
        processes.append(
            start_nginx(
                work,
                "upstream",
                UPSTREAM_CONF.format(
                    work=work, port=up, plain=plain, cert=cert, key=key, body=UPSTREAM_BODY
                ),
                cpu=1,
            )
        )
        wait_port(up)
        proxies = [p for p in start_proxies(work, processes, up, ca, "") if p.name != "seed nginx"]
        if args.http:
            port = free_port()
            fwd = start_forwarder(work, "dingbridge-http", port, f"http://127.0.0.1:{plain}", ca, 0)
            processes.append(fwd)
            wait_port(port)
            from run import Proxy

            proxies.append(Proxy("dingbridge-http", f"http://127.0.0.1:{port}", fwd))
        path = GET_PATH if args.method == "GET" else POST_PATH
        for proxy in proxies:  # warm up: the pool at full size
            run_wrk(proxy.url + path, args.method, args.connections, 1)
        load = os.getloadavg()[0]
        print(f"{args.method} c={args.connections}, {args.duration}s runs, load {load:.1f}")
        best: dict[str, tuple[float, float, float]] = {}
        for _round in range(args.rounds):
            cells = []
            for proxy in proxies:
                assert proxy.process is not None
                pids = process_tree(proxy.process.pid)
                u0, s0 = cpu_split(pids)
                r = run_wrk(proxy.url + path, args.method, args.connections, args.duration)
                u1, s1 = cpu_split(pids)
                n = r["requests"]
                user, system = (u1 - u0) * 1e6 / n, (s1 - s0) * 1e6 / n
                cells.append(
                    f"{proxy.name} {r['rps']:6.0f}/s {user + system:5.1f} µs "
                    f"(user {user:4.1f} sys {system:4.1f})"
                )
                if proxy.name not in best or user + system < sum(best[proxy.name][1:]):
                    best[proxy.name] = (r["rps"], user, system)
            print("  " + " | ".join(cells), flush=True)
        tuned, ours = best["tuned nginx"], best["dingbridge"]
        print(
            f"best: dingbridge {sum(ours[1:]):.1f} µs vs tuned nginx {sum(tuned[1:]):.1f} µs "
            f"= {sum(ours[1:]) / sum(tuned[1:]):.2f}x CPU; req/s {ours[0] / tuned[0]:.2f}x"
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)


if __name__ == "__main__":
    main()
