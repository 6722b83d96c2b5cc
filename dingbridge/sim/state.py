"""Everything the simulator remembers: the fixture's world, credentials, faults, logs, messages."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from dingbridge.sim.clock import SimClock
from dingbridge.sim.credentials import CredentialStore, Kind
from dingbridge.sim.defaults import default_fixture
from dingbridge.sim.events import EventHub
from dingbridge.sim.faults import FaultTable
from dingbridge.sim.fixtures import parse_fixture
from dingbridge.sim.records import App, Corp, User
from dingbridge.sim.settings import SimSettings


@dataclass
class LogEntry:
    """One DingTalk API call as the simulator saw it. Never holds secrets, tokens or codes."""

    time: float
    method: str
    path: str
    app_key: str
    peer: str
    outcome: str  # "ok", an oapi errcode ("60020"), an api code, or "fault:<kind>"

    def as_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "app_key": self.app_key,
            "peer": self.peer,
            "outcome": self.outcome,
        }


@dataclass(frozen=True)
class LeaveRecord:
    userid: str
    name: str
    state_code: str
    mobile: str
    leave_time: float
    reason: str = "oapi"


@dataclass
class SentMessage:
    """A work notification accepted by asyncsend_v2."""

    task_id: int
    time: float
    corp_id: str
    app_key: str
    agent_id: int
    userids: list[str]
    msg: dict[str, Any]
    failed_userids: list[str] = field(default_factory=list)
    invalid_userids: list[str] = field(default_factory=list)
    invalid_dept_ids: list[int] = field(default_factory=list)
    forbidden: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "time": self.time,
            "corp_id": self.corp_id,
            "app_key": self.app_key,
            "agent_id": self.agent_id,
            "userids": self.userids,
            "msg": self.msg,
            "failed_userids": self.failed_userids,
            "invalid_userids": self.invalid_userids,
            "invalid_dept_ids": self.invalid_dept_ids,
            "forbidden": self.forbidden,
        }


class SimState:
    def __init__(self, fixture: dict[str, Any]) -> None:
        self.clock = SimClock()
        self.settings = SimSettings()
        self.corps: dict[str, Corp] = {}
        self.apps: dict[str, App] = {}
        self.credentials = CredentialStore(self.clock, self.settings)
        self.faults = FaultTable()
        self.request_log: list[LogEntry] = []
        self.messages: list[SentMessage] = []
        self.jsapi_calls: list[dict[str, str]] = []
        """Each auth-code request of the JSAPI: which API, corpId, clientId, user, platform."""
        self._task_ids = itertools.count(256271667526)
        # Work-notification flow control: (app_key, userid, day) → count / content digests.
        self.notify_counts: dict[tuple[str, str, int], int] = {}
        self.notify_seen: set[tuple[str, str, int, str]] = set()
        self._qps: dict[tuple[str, str], tuple[int, int]] = {}
        self.events = EventHub(self)
        """Event subscriptions: Stream connections, HTTP push URLs, deliveries."""
        self.leave_records: dict[str, list[LeaveRecord]] = {}
        """Per corp: who left and when (``GET /v1.0/contact/empLeaveRecords``)."""
        self.fixture: dict[str, Any] = {}
        self.load_fixture(fixture)

    @classmethod
    def from_fixture(cls, fixture: dict[str, Any]) -> SimState:
        return cls(fixture)

    @classmethod
    def default(cls) -> SimState:
        return cls(default_fixture())

    def load_fixture(self, fixture: dict[str, Any]) -> None:
        """Replace the world (raises FixtureError, leaving the old world, if it is invalid).

        Credentials of apps whose secret, corp or existence changed are forgotten."""
        world = parse_fixture(fixture)
        for key, old in self.apps.items():
            new = world.apps.get(key)
            if new is None or (new.app_secret, new.corp_id) != (old.app_secret, old.corp_id):
                self.credentials.revoke_app(key)
        self.corps, self.apps, self.fixture = world.corps, world.apps, fixture
        # Keep the same settings object: the credential store holds it.
        self.settings.__dict__.update(world.settings.__dict__)

    # --- lookups ---

    def user(self, corp_id: str, userid: str) -> User | None:
        corp = self.corps.get(corp_id)
        return corp.users.get(userid) if corp else None

    def issue_authcode(self, corp_id: str, userid: str) -> str:
        """A 免登 code for ``userid`` in ``corp_id`` (what requestAuthCode gives a page)."""
        if self.user(corp_id, userid) is None:
            raise LookupError(f"no user {userid!r} in corp {corp_id!r}")
        return self.credentials.issue(Kind.AUTHCODE, corp_id, userid).value

    # --- bookkeeping ---

    def log(self, method: str, path: str, app_key: str, peer: str, outcome: str) -> None:
        entry = LogEntry(self.clock.now(), method, path, app_key, peer, outcome)
        self.request_log.append(entry)
        excess = len(self.request_log) - self.settings.request_log_size
        if excess > 0:
            del self.request_log[:excess]

    def over_qps(self, app_key: str, api: str) -> bool:
        """Count one call; True when this app already made ``qps_limit`` calls this second."""
        limit = self.settings.qps_limit
        if limit <= 0:
            return False
        second = int(self.clock.now())
        window, count = self._qps.get((app_key, api), (second, 0))
        if window != second:
            window, count = second, 0
        self._qps[(app_key, api)] = (window, count + 1)
        return count >= limit

    def next_task_id(self) -> int:
        return next(self._task_ids)
