"""Scale-out: sign-ins and page views per second with 1 and 2 instances on PostgreSQL + Redis
behind nginx, against 1 instance on SQLite (in-process KV, behind the same nginx); then the
9 a.m. burst — N first-of-the-day sign-ins arriving evenly over S seconds — on 2 instances,
with the simulator's QPS limit off (our capacity) and at DingTalk's 20/s (what users meet).

Every process is real and on this machine (loopback only): the simulator, the servers
(``dingbridge serve``, uvicorn + uvloop + httptools, one worker each, log level WARNING), nginx
(one worker) and the load generators (``bench/signin/signin_driver.py``, wrk with
``bench/signin/page_views.lua``, ``burst_driver.py``), so the generator's CPU competes with
the servers' for the machine's cores: the table shows each process's CPU per operation, and
"busy" (CPU seconds per second; 100 % = one core) says who was the bottleneck.

Throughput phases run with DingTalk's limits off on both sides (the simulator's ``qps_limit``
0 and the servers' ``dingtalk_qps`` high): a returning sign-in makes one DingTalk call
(getuserinfo), so at DingTalk's real 20 calls/s per app per API the sign-in rate of one
DingTalk app is 20/s however many instances run — the burst shows that.

Usage:  .venv/bin/python bench/scale/run.py [--signins 1000] [--seconds 8]
            [--burst 5000] [--burst-seconds 60] [--connections 16]
Needs DINGBRIDGE_TEST_POSTGRES_URL and DINGBRIDGE_TEST_REDIS_URL (as the tests do; a fresh
schema and key prefix are used and removed), nginx and wrk.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import aiohttp

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from dingbridge.sim.defaults import DEMO_CORP_ID  # noqa: E402
from dingbridge.storage.db import sync_url  # noqa: E402
from tests.scale.cluster import USERS, Cluster, running_cluster  # noqa: E402

SIGNIN_DRIVER = ROOT / "bench" / "signin" / "signin_driver.py"
PAGE_VIEWS = ROOT / "bench" / "signin" / "page_views.lua"
UNLIMITED = {"DINGBRIDGE_DINGTALK_QPS": "100000", "DINGBRIDGE_DINGTALK_EGRESS_LIMIT": "1000000"}


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process and its running children (nginx's worker)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(child)) for child in children)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(pids: dict[str, int], command: list[str]) -> tuple[str, dict[str, float], float]:
    """Run ``command``; its output, the CPU seconds each process used, the wall seconds."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    generator = children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{command[1]} failed:\n{done.stderr[-3000:]}")
    wall = time.perf_counter() - started
    used = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    used["load generator"] = children_cpu() - generator
    return done.stdout, used, wall


def set_sim(cluster: Cluster, **values: int) -> None:
    request = urllib.request.Request(
        f"{cluster.sim}/_sim/settings",
        data=json.dumps(values).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=5).close()


async def issue_codes(sim_url: str, count: int) -> list[str]:
    async with aiohttp.ClientSession() as http:

        async def one(n: int) -> str:
            body = {"corp_id": DEMO_CORP_ID, "userid": USERS[n % len(USERS)]}
            async with http.post(f"{sim_url}/_sim/authcode", json=body) as response:
                return str((await response.json())["code"])

        codes: list[str] = []
        for start in range(0, count, 200):
            codes += await asyncio.gather(*(one(n) for n in range(start, min(count, start + 200))))
        return codes


@dataclass
class Row:
    setup: str
    operation: str
    rate: float
    wrong: int
    cpu: dict[str, float]
    ops: int

    def cpu_text(self) -> str:
        return ", ".join(
            f"{name} {seconds / self.ops * 1000:.2f}" for name, seconds in self.cpu.items()
        )


WRK_TOTAL = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b")
UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def throughput(cluster: Cluster, setup: str, args: argparse.Namespace, folder: Path) -> list[Row]:
    set_sim(cluster, qps_limit=0)
    pids = cluster.pids
    codes, cookies = folder / "codes.txt", folder / "cookies.txt"
    rows = []
    # warm-up: the app token, connections, caches
    codes.write_text("\n".join(asyncio.run(issue_codes(cluster.sim, 60))))
    measured(pids, [sys.executable, str(SIGNIN_DRIVER), cluster.balanced, str(codes), str(cookies)])
    codes.write_text("\n".join(asyncio.run(issue_codes(cluster.sim, args.signins))))
    out, used, _ = measured(
        pids,
        [
            sys.executable,
            str(SIGNIN_DRIVER),
            cluster.balanced,
            str(codes),
            str(cookies),
            "--concurrency",
            str(args.connections),
        ],
    )
    result = json.loads(out.strip().splitlines()[-1])
    rows.append(
        Row(
            setup,
            "sign-in (2 requests)",
            result["done"] / result["seconds"],
            result["errors"],
            used,
            result["done"],
        )
    )
    out, used, _ = measured(
        pids,
        [
            "wrk",
            "--threads",
            "1",
            "--connections",
            str(args.connections),
            "--duration",
            f"{args.seconds:g}s",
            "--script",
            str(PAGE_VIEWS),
            f"{cluster.balanced}/10001/",
            "--",
            str(cookies),
            "/10001/",
        ],
    )
    total = WRK_TOTAL.search(out)
    wrong = re.search(r"WRONG_ANSWERS (\d+)", out)
    if total is None or wrong is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    ops = int(total.group(1))
    seconds = float(total.group(2)) * UNIT[total.group(3)]
    rows.append(Row(setup, "signed-in page view", ops / seconds, int(wrong.group(1)), used, ops))
    return rows


@dataclass
class Burst:
    label: str
    latencies: list[float]
    failed: dict[str, int]
    seconds: float
    cpu: dict[str, float]

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def burst(cluster: Cluster, label: str, args: argparse.Namespace, folder: Path) -> Burst:
    codes = folder / "burst.txt"
    codes.write_text("\n".join(asyncio.run(issue_codes(cluster.sim, args.burst))))
    out, used, _ = measured(
        cluster.pids,
        [
            sys.executable,
            str(HERE / "burst_driver.py"),
            cluster.balanced,
            str(codes),
            "--seconds",
            str(args.burst_seconds),
        ],
    )
    data = json.loads(out.strip().splitlines()[-1])
    return Burst(label, data["latencies"], data["failed"], data["seconds"], used)


@contextmanager
def postgres_schema() -> Iterator[str]:
    from sqlalchemy import create_engine, text

    url = os.environ["DINGBRIDGE_TEST_POSTGRES_URL"]
    schema = f"bench_{secrets.token_hex(4)}"
    admin = create_engine(sync_url(url))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in url else "?"
        yield f"{url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def drop_prefix(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(os.environ["DINGBRIDGE_TEST_REDIS_URL"])
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signins", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=8, help="length of each page-view run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--burst", type=int, default=5000)
    parser.add_argument("--burst-seconds", type=float, default=60)
    args = parser.parse_args()
    redis_url = os.environ["DINGBRIDGE_TEST_REDIS_URL"]
    base = Path(tempfile.mkdtemp(prefix="dingbridge-scale-"))
    load = [f"{os.getloadavg()[0]:.1f}"]
    rows: list[Row] = []
    bursts: list[Burst] = []

    folder = base / "sqlite"
    with running_cluster(
        folder,
        instances=1,
        database_url=f"sqlite:///{(folder / 'dingbridge.db').as_posix()}",
        kv_url=None,
        bound=USERS,
        extra_env=UNLIMITED,
    ) as cluster:
        rows += throughput(cluster, "1 instance, SQLite + in-process KV", args, folder)

    for instances in (1, 2):
        prefix = f"dingbridge-bench:{uuid.uuid4().hex}:"
        folder = base / f"pg{instances}"
        env = dict(UNLIMITED)
        try:
            with (
                postgres_schema() as url,
                running_cluster(
                    folder,
                    instances=instances,
                    database_url=url,
                    kv_url=f"{redis_url}?prefix={prefix}",
                    bound=USERS,
                    extra_env=env,
                ) as cluster,
            ):
                setup = f"{instances} instance{'s' if instances > 1 else ''}, PostgreSQL + Redis"
                rows += throughput(cluster, setup, args, folder)
                if instances == 2 and args.burst:
                    set_sim(cluster, qps_limit=0)
                    bursts.append(burst(cluster, "DingTalk limits off", args, folder))
        finally:
            drop_prefix(prefix)
        if instances == 2 and args.burst:
            # the same burst at DingTalk's real limit: default pacing (20/s, 8 s patience)
            prefix = f"dingbridge-bench:{uuid.uuid4().hex}:"
            folder = base / "pg2-limited"
            try:
                with (
                    postgres_schema() as url,
                    running_cluster(
                        folder,
                        instances=2,
                        database_url=url,
                        kv_url=f"{redis_url}?prefix={prefix}",
                        bound=USERS,
                    ) as cluster,
                ):
                    set_sim(cluster, qps_limit=20)
                    bursts.append(burst(cluster, "DingTalk's 20 calls/s", args, folder))
            finally:
                drop_prefix(prefix)
    load.append(f"{os.getloadavg()[0]:.1f}")
    report(rows, bursts, args, load)


def report(rows: list[Row], bursts: list[Burst], args: argparse.Namespace, load: list[str]) -> None:
    print(
        f"CPU cores: {os.cpu_count()} (shared by servers, nginx, simulator and load generator); "
        f"load average {load[0]} before, {load[1]} after"
    )
    print(
        f"{args.signins} sign-ins with {args.connections} in flight; page views: wrk 1 thread, "
        f"{args.connections} connections, {args.seconds:g} s; all through nginx"
    )
    print(f"  {'setup':38s} {'operation':22s} {'per s':>7s}   CPU ms per operation")
    for row in rows:
        print(f"  {row.setup:38s} {row.operation:22s} {row.rate:7.0f}   {row.cpu_text()}")
    wrong = sum(row.wrong for row in rows)
    for item in bursts:
        ok = len(item.latencies)
        refused = sum(item.failed.values())
        print(
            f"9 a.m. burst, 2 instances, {args.burst} sign-ins over {args.burst_seconds:g} s, "
            f"{item.label}: {ok} signed in, {refused} refused {item.failed or ''}; latency "
            f"p50 {item.percentile(50) * 1000:.0f} ms, p90 {item.percentile(90) * 1000:.0f} ms, "
            f"p99 {item.percentile(99) * 1000:.0f} ms, "
            f"max {max(item.latencies, default=0) * 1000:.0f} ms"
            f" (mean {statistics.fmean(item.latencies) * 1000 if item.latencies else 0:.0f} ms); "
            f"finished after {item.seconds:.1f} s"
        )
        busy = ", ".join(
            f"{name} {seconds / item.seconds:.0%}" for name, seconds in item.cpu.items()
        )
        print(f"    busy (CPU s per s, 100 % = one core): {busy}")
    if wrong:
        raise SystemExit(f"{wrong} wrong answers: the figures above do not count")


if __name__ == "__main__":
    main()
