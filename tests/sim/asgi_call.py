"""A tiny in-process HTTP caller for ASGI apps (httpx is not a dependency)."""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from dingbridge.sim.gate import DROPPED


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
    body = content or b""
    all_headers = {k.lower(): v for k, v in (headers or {}).items()}
    if json is not None:
        body = jsonlib.dumps(json).encode()
        all_headers.setdefault("content-type", "application/json")
    elif form is not None:
        body = urlencode(form).encode()
        all_headers.setdefault("content-type", "application/x-www-form-urlencoded")
    all_headers["content-length"] = str(len(body))
    all_headers.setdefault("host", "sim.test")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": urlencode(query or {}).encode(),
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in all_headers.items()],
        "client": (peer, 50000),
        "server": ("sim.test", 80),
    }
    sent = False
    answer = Answer(status=0)

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    result = await app(scope, receive, send)
    answer.dropped = result == DROPPED
    return answer
