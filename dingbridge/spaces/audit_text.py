"""The audit log as people read it: one sentence per kind of action, and the changed fields
("名称：旧 → 新") instead of raw keys and JSON; the CSV export of it, its cells made safe for
spreadsheets.

Every sentence is a :class:`Message`, so the console and the CSV show it in the reader's language.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dingbridge.i18n import N_, Message, translate
from dingbridge.storage.models import AuditEntry

Details = Mapping[str, Any]
Sentence = Callable[[str, str, Details], Message]

# The kinds of action, in the order the console's filter lists them, each with its sentence:
# sentence(actor, target, details).
SENTENCES: dict[str, Sentence] = {}


def _sentence(action: str) -> Callable[[Sentence], Sentence]:
    def register(build: Sentence) -> Sentence:
        SENTENCES[action] = build
        return build

    return register


_TARGET = re.compile(r"^space:(?P<space>\d+)(?:/(?P<kind>member|app):(?P<id>\d+))?$")


def _space(target: str) -> str:
    match = _TARGET.match(target)
    return match["space"] if match else target


def _named(details: Details, target: str, key: str = "name") -> str:
    """The member's or app's name in ``details`` (the new one of a change), else ``#id``."""
    value = details.get(key)
    if isinstance(value, Mapping):
        value = value.get("new") or value.get("old")
    if value:
        return str(value)
    match = _TARGET.match(target)
    return f"#{match['id']}" if match and match["id"] else target


def _after(target: str) -> str:
    return target.split(":", 1)[1] if ":" in target else target


@_sentence("space.create")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s created space %(space)s (%(name)s).",
        actor=actor,
        space=_space(target),
        name=d.get("name", ""),
    )


@_sentence("space.rename")
def _(actor: str, target: str, d: Details) -> Message:
    change = d.get("name") or {}
    return Message(
        "%(actor)s renamed space %(space)s from %(old)s to %(new)s.",
        actor=actor,
        space=_space(target),
        old=change.get("old", ""),
        new=change.get("new", ""),
    )


@_sentence("space.enable")
def _(actor: str, target: str, d: Details) -> Message:
    return Message("%(actor)s enabled space %(space)s.", actor=actor, space=_space(target))


@_sentence("space.disable")
def _(actor: str, target: str, d: Details) -> Message:
    return Message("%(actor)s disabled space %(space)s.", actor=actor, space=_space(target))


@_sentence("space.events")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s changed how DingTalk events reach space %(space)s.",
        actor=actor,
        space=_space(target),
    )


@_sentence("dingtalk.update")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s changed the DingTalk settings of space %(space)s.",
        actor=actor,
        space=_space(target),
    )


@_sentence("dingtalk.test")
def _(actor: str, target: str, d: Details) -> Message:
    if d.get("result") == "pass":
        return Message(
            "%(actor)s tested the DingTalk connection of space %(space)s: it passed.",
            actor=actor,
            space=_space(target),
        )
    return Message(
        "%(actor)s tested the DingTalk connection of space %(space)s: it failed.",
        actor=actor,
        space=_space(target),
    )


@_sentence("signin.policy")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s changed how new DingTalk users are bound in space %(space)s.",
        actor=actor,
        space=_space(target),
    )


@_sentence("member.add")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s added member %(name)s to space %(space)s.",
        actor=actor,
        name=_named(d, target),
        space=_space(target),
    )


@_sentence("member.edit")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s edited member %(name)s of space %(space)s.",
        actor=actor,
        name=_named(d, target),
        space=_space(target),
    )


@_sentence("member.delete")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s deleted member %(name)s from space %(space)s.",
        actor=actor,
        name=_named(d, target),
        space=_space(target),
    )


@_sentence("member.enable")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s enabled member %(name)s of space %(space)s.",
        actor=actor,
        name=_named(d, target),
        space=_space(target),
    )


@_sentence("member.disable")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s disabled member %(name)s of space %(space)s.",
        actor=actor,
        name=_named(d, target),
        space=_space(target),
    )


@_sentence("member.import")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s imported %(file)s into space %(space)s: %(added)s added, %(updated)s updated.",
        actor=actor,
        file=d.get("file", ""),
        space=_space(target),
        added=d.get("added", 0),
        updated=d.get("updated", 0),
    )


@_sentence("member.import_dingtalk")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s imported the DingTalk directory into space %(space)s: %(created)s added, "
        "%(updated)s updated.",
        actor=actor,
        space=_space(target),
        created=d.get("created", 0),
        updated=d.get("updated", 0),
    )


@_sentence("member.sync_dingtalk")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s synced space %(space)s with the DingTalk directory: %(created)s added, "
        "%(disabled)s disabled.",
        actor=actor,
        space=_space(target),
        created=d.get("created", 0),
        disabled=d.get("disabled", 0),
    )


@_sentence("member.sync_stopped")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "The directory sync of space %(space)s stopped instead of disabling %(count)s of "
        "%(active)s active members (%(actor)s).",
        actor=actor,
        space=_space(target),
        count=d.get("would_disable", 0),
        active=d.get("active_members", 0),
    )


@_sentence("member.left_dingtalk")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(name)s left the company in DingTalk and was disabled in space %(space)s (%(actor)s).",
        actor=actor,
        name=_named(d, target),
        space=_space(target),
    )


@_sentence("member.sessions_revoked")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s ended the sessions of %(name)s in space %(space)s (%(sessions)s).",
        actor=actor,
        name=_named(d, target),
        space=_space(target),
        sessions=d.get("sessions", 0),
    )


@_sentence("binding.create")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(name)s was bound to DingTalk user %(userid)s in space %(space)s (%(actor)s).",
        actor=actor,
        name=_named(d, target, "member"),
        userid=d.get("userid", ""),
        space=_space(target),
    )


@_sentence("binding.delete")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s unbound %(name)s from DingTalk user %(userid)s in space %(space)s.",
        actor=actor,
        name=_named(d, target, "member"),
        userid=d.get("userid", ""),
        space=_space(target),
    )


@_sentence("space_app.add")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s added the app %(name)s to space %(space)s.",
        actor=actor,
        name=_named(d, target),
        space=_space(target),
    )


@_sentence("space_app.update")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s changed the app %(name)s of space %(space)s.",
        actor=actor,
        name=_named(d, target),
        space=_space(target),
    )


@_sentence("space_app.rotate_secret")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s issued a new client secret for the app %(name)s of space %(space)s.",
        actor=actor,
        name=_named(d, target),
        space=_space(target),
    )


@_sentence("space_app.delete")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s removed the app %(name)s from space %(space)s.",
        actor=actor,
        name=_named(d, target),
        space=_space(target),
    )


@_sentence("oidc.keys_rotated")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s rotated the sign-in signing key of space %(space)s (%(alg)s).",
        actor=actor,
        space=_space(target),
        alg=d.get("alg", ""),
    )


@_sentence("api_token.create")
def _(actor: str, target: str, d: Details) -> Message:
    return Message("%(actor)s created the API token %(name)s.", actor=actor, name=d.get("name", ""))


@_sentence("api_token.revoke")
def _(actor: str, target: str, d: Details) -> Message:
    return Message("%(actor)s revoked the API token %(name)s.", actor=actor, name=d.get("name", ""))


@_sentence("admin.create")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s created the admin account %(admin)s.", actor=actor, admin=_after(target)
    )


@_sentence("admin.password")
def _(actor: str, target: str, d: Details) -> Message:
    return Message(
        "%(actor)s changed the password of the admin account %(admin)s.",
        actor=actor,
        admin=_after(target),
    )


# A short name of each kind of action, for the console's filter.
ACTION_NAMES = {
    "space.create": N_("Space created"),
    "space.rename": N_("Space renamed"),
    "space.enable": N_("Space enabled"),
    "space.disable": N_("Space disabled"),
    "space.events": N_("DingTalk events changed"),
    "dingtalk.update": N_("DingTalk settings changed"),
    "dingtalk.test": N_("Connection tested"),
    "signin.policy": N_("Binding policy changed"),
    "member.add": N_("Member added"),
    "member.edit": N_("Member edited"),
    "member.delete": N_("Member deleted"),
    "member.enable": N_("Member enabled"),
    "member.disable": N_("Member disabled"),
    "member.import": N_("CSV import"),
    "member.import_dingtalk": N_("Directory import"),
    "member.sync_dingtalk": N_("Directory sync"),
    "member.sync_stopped": N_("Directory sync stopped"),
    "member.left_dingtalk": N_("Left the company in DingTalk"),
    "member.sessions_revoked": N_("Sessions ended"),
    "binding.create": N_("DingTalk account bound"),
    "binding.delete": N_("DingTalk account unbound"),
    "space_app.add": N_("App added"),
    "space_app.update": N_("App changed"),
    "space_app.rotate_secret": N_("App secret renewed"),
    "space_app.delete": N_("App removed"),
    "oidc.keys_rotated": N_("Signing key rotated"),
    "api_token.create": N_("API token created"),
    "api_token.revoke": N_("API token revoked"),
    "admin.create": N_("Admin account created"),
    "admin.password": N_("Admin password changed"),
}


def sentence(entry: AuditEntry) -> Message:
    """What ``entry`` records, in one sentence."""
    details = entry.details or {}
    build = SENTENCES.get(entry.action)
    if build is None:
        return Message(
            "%(actor)s: %(action)s on %(target)s.",
            actor=entry.actor,
            action=entry.action,
            target=entry.target,
        )
    return build(entry.actor, entry.target, details)


# Readable names of the fields the log records changes of (others show their key).
FIELD_NAMES = {
    "name": N_("Name"),
    "mobile": N_("Mobile"),
    "email": N_("Email"),
    "role": N_("Role"),
    "status": N_("Status"),
    "enabled": N_("Sign-in enabled"),
    "corp_name": N_("Company name"),
    "corp_id": N_("CorpId"),
    "agent_id": N_("AgentId"),
    "app_key": N_("AppKey"),
    "app_secret": N_("AppSecret"),
    "api_version": N_("API version"),
    "forward_url": N_("Forward address"),
    "binding_policy": N_("How new users are bound"),
    "events_mode": N_("How DingTalk events arrive"),
    "sync_guard_percent": N_("Sync guard (%)"),
    "url": N_("Address"),
    "access": N_("Who may use it"),
    "departments": N_("Departments"),
    "members": N_("Members"),
    "icon": N_("Icon"),
}


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


def _plain(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list | tuple):
        return ", ".join(_plain(item) for item in value)
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def changes(entry: AuditEntry, language: str) -> list[Change]:
    """The fields an edit changed, old and new values as plain text (secrets stay masked)."""
    result = []
    for key, value in sorted((entry.details or {}).items()):
        if isinstance(value, Mapping) and set(value) == {"old", "new"}:
            label = FIELD_NAMES.get(key)
            result.append(
                Change(
                    translate(label, language) if label else key,
                    _plain(value["old"]),
                    _plain(value["new"]),
                )
            )
    return result


# ------------------------------------------------------------------------------ CSV

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading ``'``."""
    return "'" + value if value.startswith(_FORMULA_START) else value


CSV_HEADER = (N_("Time"), N_("Actor"), N_("Action"), N_("Target"), N_("What happened"))


def csv_text(entries: Iterable[AuditEntry], language: str, shown_time: Callable[[Any], str]) -> str:
    """The entries as CSV (a header row, then one row per entry), with a byte-order mark so
    Excel opens the Chinese text as UTF-8; every cell is :func:`safe_cell`."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([translate(name, language) for name in CSV_HEADER])
    for entry in entries:
        described = sentence(entry).in_language(language)
        for change in changes(entry, language):
            described += f" {change.field}: {change.old} → {change.new};"
        row = [shown_time(entry.time), entry.actor, entry.action, entry.target, described]
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
