"""schemathesis over the admin API's OpenAPI document (``/api/v1/openapi.json``), in-process
through its ASGI support, with an API token: every operation, generated requests (valid and
not), and each answer must be documented (status code) and never a 500. Bounded and
deterministic: a fixed number of examples per operation, ``derandomize``, no example
database. The OpenID endpoints: ``test_schemathesis_oidc.py``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import status_code_conformance

from dingbridge.accounts.api_tokens import create_token_headless
from dingbridge.app import create_app
from dingbridge.settings import Settings
from dingbridge.spaces.headless import create_admin_account, create_space

EXAMPLES = 25
CHECKS: list[Any] = [schemathesis.checks.not_a_server_error, status_code_conformance]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[Any, dict[str, str]]]:
    server = Settings(data_dir=tmp_path / "data")
    create_admin_account(server, "admin", "correct horse battery")
    create_space(server, "总部")
    token = create_token_headless(server, "schemathesis", "admin")
    app = create_app(server, announce=lambda _m: None)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    try:
        yield schema, {"Authorization": f"Bearer {token}"}
    finally:
        shutdown_lifespans()


def test_the_admin_api_answers_as_documented(api: tuple[Any, dict[str, str]]) -> None:
    schema, headers = api
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    for operation, mode in [(op, mode) for op in operations for mode in modes]:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()
