"""The fault matrix as tests: each fault on each DingTalk call of the in-client, PC OAuth,
binding and OIDC authorize flows (see ``tests/faults/matrix.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.matrix import (
    FAULTS,
    FLOWS,
    FaultCase,
    Flow,
    cells,
    matrix_world,
    new_browser,
    run_cell,
)


@pytest.mark.parametrize(
    ("flow", "call", "case"),
    [pytest.param(*cell, id=f"{cell[0].name}-{cell[1]}-{cell[2].name}") for cell in cells()],
)
async def test_fault_cell(flow: Flow, call: str, case: FaultCase) -> None:
    result = await run_cell(flow, call, case)
    assert result.problems == [], result


@pytest.mark.parametrize("flow", FLOWS, ids=[f.name for f in FLOWS])
async def test_each_flow_makes_the_calls_the_matrix_faults(flow: Flow, tmp_path: Path) -> None:
    """Without a fault every flow succeeds and makes exactly the DingTalk calls listed for it
    (so the matrix covers every call the flow makes)."""
    async with matrix_world(tmp_path / "data") as world:
        seen = await flow.play(world, new_browser(world))
        assert seen.signed_in, seen.page.text[:300]
        pages = ("/oauth2/auth", "/connect/")  # DingTalk's login pages: the browser's
        made = [path for path in world.dingtalk_calls() if not path.startswith(pages)]
        assert sorted(set(made)) == sorted(flow.calls)


@pytest.mark.parametrize("fault", ["drop", "60020", "88/60011"])
@pytest.mark.parametrize("flow", FLOWS, ids=[f.name for f in FLOWS])
async def test_a_reader_of_english_gets_the_message_in_english(flow: Flow, fault: str) -> None:
    case = next(c for c in FAULTS if c.name == fault)
    call = next(c for c in flow.calls if c not in flow.falls_back_to_sms)
    result = await run_cell(flow, call, case, language="en")
    assert result.problems == [], result
