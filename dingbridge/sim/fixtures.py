"""Fixture files (JSON or YAML) → records. Every problem is reported at once, with its path."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dingbridge.sim.records import ALL_PERMISSIONS, App, Corp, Department, User
from dingbridge.sim.settings import SimSettings


class FixtureError(ValueError):
    """The fixture is unusable; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid simulator fixture:\n  " + "\n  ".join(problems))


@dataclass
class World:
    corps: dict[str, Corp] = field(default_factory=dict)
    apps: dict[str, App] = field(default_factory=dict)
    settings: SimSettings = field(default_factory=SimSettings)


def load_fixture_file(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise FixtureError([f"{path}: not valid JSON/YAML: {exc}"]) from exc
    if not isinstance(data, dict):
        raise FixtureError([f"{path}: the top level must be an object with a 'corps' list"])
    return data


def parse_fixture(data: dict[str, Any]) -> World:
    problems: list[str] = []
    world = World()
    settings = data.get("settings", {})
    if isinstance(settings, dict):
        problems += world.settings.update(settings)
    else:
        problems.append("settings: expected an object")
    corps = data.get("corps")
    if not isinstance(corps, list) or not corps:
        raise FixtureError([*problems, "corps: expected a non-empty list"])
    for index, raw in enumerate(corps):
        where = f"corps[{index}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: expected an object")
            continue
        corp = _corp(raw, where, problems)
        if corp.corp_id in world.corps:
            problems.append(f"{where}.corp_id: duplicate {corp.corp_id!r}")
        world.corps[corp.corp_id] = corp
        for app in corp.apps.values():
            if app.app_key in world.apps:
                problems.append(f"{where}: app_key {app.app_key!r} used twice")
            world.apps[app.app_key] = app
    if problems:
        raise FixtureError(problems)
    return world


def _text(
    raw: dict[str, Any], key: str, where: str, problems: list[str], default: str | None = None
) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or (default is None and not value):
        problems.append(f"{where}.{key}: expected a non-empty string")
        return ""
    return value


def _int_list(raw: dict[str, Any], key: str, where: str, problems: list[str]) -> list[int]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
        problems.append(f"{where}.{key}: expected a list of integers")
        return []
    return list(value)


def _str_list(raw: dict[str, Any], key: str, where: str, problems: list[str]) -> list[str]:
    value = raw.get(key, [])
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}.{key}: expected a list of strings")
        return []
    return list(value)


def _corp(raw: dict[str, Any], where: str, problems: list[str]) -> Corp:
    corp = Corp(
        corp_id=_text(raw, "corp_id", where, problems), name=_text(raw, "name", where, problems)
    )
    for i, d in enumerate(raw.get("departments") or [{"dept_id": 1, "name": corp.name}]):
        dwhere = f"{where}.departments[{i}]"
        dept_id, parent = d.get("dept_id"), d.get("parent_id")
        if not isinstance(dept_id, int) or (parent is not None and not isinstance(parent, int)):
            problems.append(f"{dwhere}: dept_id and parent_id must be integers")
            continue
        if dept_id == 1:
            parent = None
        corp.departments[dept_id] = Department(dept_id, _text(d, "name", dwhere, problems), parent)
    if 1 not in corp.departments:
        problems.append(f"{where}.departments: the root department (dept_id 1) is missing")
    for dept in corp.departments.values():
        if dept.parent_id is not None and dept.parent_id not in corp.departments:
            problems.append(
                f"{where}: department {dept.dept_id} has unknown parent {dept.parent_id}"
            )
    for i, u in enumerate(raw.get("users") or []):
        user = _user(u, f"{where}.users[{i}]", problems)
        if user.userid in corp.users:
            problems.append(f"{where}.users[{i}].userid: duplicate {user.userid!r}")
        unknown = [d for d in user.dept_ids if d not in corp.departments]
        if unknown:
            problems.append(f"{where}.users[{i}].dept_ids: unknown departments {unknown}")
        corp.users[user.userid] = user
    for i, a in enumerate(raw.get("apps") or []):
        app = _app(a, corp.corp_id, f"{where}.apps[{i}]", problems)
        corp.apps[app.app_key] = app
    return corp


def _user(raw: dict[str, Any], where: str, problems: list[str]) -> User:
    user = User(
        userid=_text(raw, "userid", where, problems),
        unionid=_text(raw, "unionid", where, problems),
        name=_text(raw, "name", where, problems),
        mobile=_text(raw, "mobile", where, problems, ""),
        state_code=_text(raw, "state_code", where, problems, "86"),
        email=_text(raw, "email", where, problems, ""),
        dept_ids=_int_list(raw, "dept_ids", where, problems) or [1],
        title=_text(raw, "title", where, problems, ""),
        job_number=_text(raw, "job_number", where, problems, ""),
        org_email=_text(raw, "org_email", where, problems, ""),
        leader_dept_ids=_int_list(raw, "leader_dept_ids", where, problems),
    )
    active = raw.get("active", True)
    sys_level = raw.get("sys_level", 0)
    if not isinstance(active, bool):
        problems.append(f"{where}.active: expected true or false")
    else:
        user.active = active
    if sys_level not in (0, 1, 2, 100):
        problems.append(f"{where}.sys_level: expected 0, 1, 2 or 100")
    else:
        user.sys_level = sys_level
    return user


def _app(raw: dict[str, Any], corp_id: str, where: str, problems: list[str]) -> App:
    agent_id = raw.get("agent_id")
    if not isinstance(agent_id, int):
        problems.append(f"{where}.agent_id: expected an integer")
        agent_id = 0
    permissions = _str_list(raw, "permissions", where, problems)
    if "*" in permissions:
        permissions = sorted(ALL_PERMISSIONS)
    unknown = sorted(set(permissions) - ALL_PERMISSIONS)
    if unknown:
        problems.append(f"{where}.permissions: unknown {unknown}; known: {sorted(ALL_PERMISSIONS)}")
    return App(
        app_key=_text(raw, "app_key", where, problems),
        app_secret=_text(raw, "app_secret", where, problems),
        agent_id=agent_id,
        corp_id=corp_id,
        name=_text(raw, "name", where, problems, ""),
        ip_whitelist=_str_list(raw, "ip_whitelist", where, problems),
        permissions=frozenset(permissions),
        redirect_urls=_str_list(raw, "redirect_urls", where, problems),
    )
