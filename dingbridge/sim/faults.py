"""Injectable faults per endpoint path: latency, no answer, 5xx, dropped connection, errcode,
a body that is not DingTalk JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

FaultKind = Literal["latency", "hang", "http_status", "drop", "error", "malformed"]
FAULT_KINDS: tuple[str, ...] = ("latency", "hang", "http_status", "drop", "error", "malformed")

# What a "malformed" fault answers when it names no body: a JSON object cut off mid-way.
TRUNCATED_BODY = '{"errcode":0,"errmsg":"ok","result":{"userid":"'


@dataclass
class Fault:
    """``path`` is an exact request path (``/gettoken``) or ``*`` for every DingTalk API path.

    - ``latency``: wait ``seconds`` then answer normally;
    - ``hang``: never answer (until the client gives up, or ``seconds`` if > 0);
    - ``http_status``: answer ``status`` (default 502) with a gateway's HTML body;
    - ``drop``: close the connection without any response;
    - ``error``: answer the family's error shape with ``errcode`` / ``errmsg`` (oapi, HTTP 200)
      or ``status`` + ``code`` / ``message`` (api). With ``sub_code`` (and ``sub_msg``) the oapi
      answer is the gateway's errcode 88 wrapper (``{"errcode": 88, "sub_code": "40014",
      "sub_msg", "errmsg": "ding talk error[subcode=…,submsg=…]"}``);
    - ``malformed``: HTTP ``status`` (default 200) with ``body`` (default: a JSON object cut off
      mid-way) in the family's JSON content type, e.g. a proxy's page or a truncated answer.

    ``count`` is how many requests it hits before it disappears; ``None`` = until cleared.
    """

    path: str
    kind: FaultKind
    seconds: float = 0.0
    status: int = 0
    errcode: int = -1
    errmsg: str = "系统繁忙"
    code: str = "systemBusy"
    message: str = "系统繁忙"
    sub_code: str = ""
    sub_msg: str = ""
    body: str = ""
    count: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_fault(raw: Any) -> Fault:
    """Build a fault from control-API JSON; ValueError with a readable reason otherwise."""
    if not isinstance(raw, dict):
        raise ValueError("a fault is a JSON object")
    unknown = set(raw) - set(Fault.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown fault fields: {sorted(unknown)}")
    path, kind = raw.get("path"), raw.get("kind")
    if not isinstance(path, str) or not (path.startswith("/") or path == "*"):
        raise ValueError("fault.path must be a request path such as /gettoken, or *")
    if kind not in FAULT_KINDS:
        raise ValueError(f"fault.kind must be one of {list(FAULT_KINDS)}")
    count = raw.get("count")
    if count is not None and (not isinstance(count, int) or count < 1):
        raise ValueError("fault.count must be a positive integer or null (persistent)")
    fault = Fault(path=path, kind=kind)
    for name in (
        "seconds",
        "status",
        "errcode",
        "errmsg",
        "code",
        "message",
        "sub_code",
        "sub_msg",
        "body",
    ):
        if name in raw:
            expected = type(getattr(fault, name))
            value = raw[name]
            if expected is float and isinstance(value, int):
                value = float(value)
            if not isinstance(value, expected) or isinstance(value, bool):
                raise ValueError(f"fault.{name} must be a {expected.__name__}")
            setattr(fault, name, value)
    fault.count = count
    if fault.kind == "http_status" and not fault.status:
        fault.status = 502
    if fault.sub_code and "errcode" not in raw:
        fault.errcode = 88
    if fault.kind == "malformed" and not fault.body:
        fault.body = TRUNCATED_BODY
    low = 200 if fault.kind == "malformed" else 400
    if fault.status and not low <= fault.status <= 599:
        raise ValueError(f"fault.status must be an HTTP status ({low}-599)")
    return fault


class FaultTable:
    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self.faults.append(fault)

    def clear(self, path: str | None = None) -> None:
        self.faults = [f for f in self.faults if path is not None and f.path != path]

    def take(self, path: str) -> Fault | None:
        """The first fault matching ``path``, counting one hit against it."""
        for fault in self.faults:
            if fault.path in (path, "*"):
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                return fault
        return None
