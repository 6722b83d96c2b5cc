"""schemathesis over the OpenID endpoints of space 10001, from a small OpenAPI description of
them written here (the admin API's document does not hold them): discovery, JWKS, authorize,
token, userinfo, revoke, introspect, end-session. Generated requests, valid and not, with no
client credentials or with wrong ones: never a 500, and only the documented statuses (the
provider answers errors as the RFCs say: 400 and 401 as JSON, the authorization and
end-session pages 400 as HTML, a sign-in redirect 303)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import status_code_conformance

from dingbridge.app import create_app
from dingbridge.settings import Settings
from dingbridge.spaces.headless import create_space

EXAMPLES = 25
CHECKS: list[Any] = [schemathesis.checks.not_a_server_error, status_code_conformance]
TEXT = {"type": "string", "maxLength": 300}


def _form(*names: str) -> dict[str, Any]:
    properties = {name: TEXT for name in names}
    return {
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "properties": properties}
            }
        }
    }


def _answers(*codes: int) -> dict[str, Any]:
    return {str(code): {"description": "answer"} for code in codes}


def _query(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "in": "query", "required": False, "schema": TEXT} for n in names]


BASIC = [{"name": "Authorization", "in": "header", "required": False, "schema": TEXT}]
DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "dingbridge OpenID provider (space 10001)", "version": "1"},
    "paths": {
        "/10001/.well-known/openid-configuration": {"get": {"responses": _answers(200)}},
        "/10001/oidc/jwks": {"get": {"responses": _answers(200)}},
        "/10001/oidc/authorize": {
            "get": {
                "parameters": _query(
                    "response_type",
                    "client_id",
                    "redirect_uri",
                    "scope",
                    "state",
                    "nonce",
                    "code_challenge",
                    "code_challenge_method",
                    "prompt",
                    "max_age",
                    "resume",
                ),
                "responses": _answers(302, 303, 400),
            }
        },
        "/10001/oidc/token": {
            "post": {
                "parameters": BASIC,
                "requestBody": _form(
                    "grant_type",
                    "code",
                    "redirect_uri",
                    "code_verifier",
                    "refresh_token",
                    "client_id",
                    "client_secret",
                    "scope",
                ),
                "responses": _answers(200, 400, 401),
            }
        },
        "/10001/oidc/userinfo": {
            "get": {"parameters": BASIC, "responses": _answers(200, 400, 401, 403)}
        },
        "/10001/oidc/revoke": {
            "post": {
                "parameters": BASIC,
                "requestBody": _form("token", "token_type_hint", "client_id", "client_secret"),
                "responses": _answers(200, 400, 401),
            }
        },
        "/10001/oidc/introspect": {
            "post": {
                "parameters": BASIC,
                "requestBody": _form("token", "token_type_hint", "client_id", "client_secret"),
                "responses": _answers(200, 400, 401),
            }
        },
        "/10001/oidc/logout": {
            "get": {
                "parameters": _query(
                    "id_token_hint", "client_id", "post_logout_redirect_uri", "state"
                ),
                "responses": _answers(200, 302, 400),
            }
        },
    },
}


@pytest.fixture
def oidc(tmp_path: Path) -> Iterator[Any]:
    server = Settings(data_dir=tmp_path / "data")
    create_space(server, "总部")
    app = create_app(server, announce=lambda _m: None)
    schema = schemathesis.openapi.from_dict(DOCUMENT)
    schema.app = app
    try:
        yield schema
    finally:
        shutdown_lifespans()


def test_the_openid_endpoints_answer_as_described(oidc: Any) -> None:
    operations = [result.ok() for result in oidc.get_all_operations()]
    assert len(operations) == 8
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
            case.call_and_validate(checks=CHECKS)

        try:
            check()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing to get wrong (no parameters)
