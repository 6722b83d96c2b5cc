"""The fault matrix as a table: each simulator fault on each DingTalk call of the in-client,
PC OAuth, binding and OIDC authorize flows, and what the user saw.

    .venv/bin/python bench/faults/run.py [--flow NAME] [--fault NAME]

Each cell runs in-process (server + simulator, SQLite, a fresh data dir), as
``tests/faults/test_fault_matrix.py`` does: the fault on the call while the user goes through
the flow, then cleared and the same flow again in the same server. Columns: the HTTP status
of the answer the user saw, the outcome (``ok`` = signed in; ``sms`` = sent on to the SMS
binding; otherwise the refusal shown: ``dingtalk_unavailable`` "try again in a moment",
``dingtalk_misconfigured`` "contact your administrator"), whether the user got in once the
fault cleared (no restart), the time the faulted attempt took, and any problem found.
Exit status 1 when any cell has a problem.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.faults.matrix import CALL_TIMEOUT, FAULTS, FLOWS, run_cell  # noqa: E402


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flow", action="append", help="only these flows (repeatable)")
    parser.add_argument("--fault", action="append", help="only these faults (repeatable)")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # the server logs every refusal; the table says it all
    flows = [f for f in FLOWS if not args.flow or f.name in args.flow]
    faults = [c for c in FAULTS if not args.fault or c.name in args.fault]
    print(f"DingTalk call timeout {CALL_TIMEOUT}s, retries as in production (3 attempts)")
    header = (
        f"{'flow':<15} {'call':<32} {'fault':<15} {'HTTP':>4} {'outcome':<22} "
        f"{'after':<9} {'ms':>6}"
    )
    print(header)
    print("-" * len(header))
    bad = total = 0
    started = time.perf_counter()
    for flow in flows:
        for call in flow.calls:
            for case in faults:
                t0 = time.perf_counter()
                result = await run_cell(flow, call, case)
                ms = (time.perf_counter() - t0) * 1000
                total += 1
                after = "ok" if result.recovered else "STUCK"
                print(
                    f"{flow.name:<15} {call:<32} {case.name:<15} {result.status:>4} "
                    f"{result.outcome:<22} {after:<9} {ms:>6.0f}"
                    + (f"  PROBLEM: {'; '.join(result.problems)}" if result.problems else "")
                )
                bad += bool(result.problems)
    seconds = time.perf_counter() - started
    print(f"\n{total} cells, {total - bad} clean, {bad} with problems, {seconds:.1f}s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
