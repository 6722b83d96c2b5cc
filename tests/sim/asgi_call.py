"""``call``: one request to the simulator in-process, through the tests' shared ASGI caller."""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from dingbridge.sim.gate import DROPPED
from tests.asgi_client import encode_body, exchange


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    dropped: bool = False

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


async def call(
    app: Any,
    method: str,
    path: str,
    *,
    query: dict[str, Any] | None = None,
    json: Any = None,
    form: dict[str, Any] | None = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    peer: str = "127.0.0.1",
) -> Answer:
    """Send one request to ``app`` as if from ``peer`` and collect the answer."""
    body, content_type = encode_body(
        json_body=json, form=form, body=None if json is not None or form is not None else content
    )
    all_headers = {"content-type": content_type} if content_type else {}
    all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    all_headers["content-length"] = str(len(body))
    url = f"{path}?{urlencode(query)}" if query else path
    result = await exchange(
        app, method, url, headers=all_headers, body=body, client_ip=peer, host="sim.test"
    )
    return Answer(result.status, dict(result.headers), result.body, result.returned == DROPPED)
