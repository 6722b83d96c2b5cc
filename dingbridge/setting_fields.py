"""Settings declared once: each a dataclass field with its type, default, help text and
environment variable, from which loading, parsing and the command-line options all follow.

The server's :class:`~dingbridge.settings.Settings`, the forwarder's ``ForwarderSettings`` and
the simulator's ``SimSettings`` are declared with :func:`setting`; :func:`declared` lists the
fields, :func:`merge` builds values from layers (a file, the environment, command-line options)
and reports every value that cannot be parsed. The command-line options are generated from
the same declarations (``dingbridge.commands.options``).

Standard library only, so the forwarder (which imports nothing else of dingbridge but
``redact``) can use it too.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_KEY = "dingbridge.setting"


@dataclass(frozen=True)
class Spec:
    """How a setting is offered: its help, whether it is read from the environment, and
    whether (and under which flag) it is a command-line option. Secrets are environment-only
    (``cli=False``), so they never show in a process list."""

    help: str
    env: bool = True
    cli: bool = True
    flag: str | None = None  # default: --name-with-dashes (bools: --name/--no-name)
    metavar: str | None = None
    env_aliases: tuple[str, ...] = ()  # former variable names, still read


def setting(
    default: Any,
    help: str,
    *,
    env: bool = True,
    cli: bool = True,
    flag: str | None = None,
    metavar: str | None = None,
    env_aliases: tuple[str, ...] = (),
) -> Any:
    """A dataclass field declaring one setting (use as ``name: type = setting(...)``)."""
    spec = Spec(help, env=env, cli=cli, flag=flag, metavar=metavar, env_aliases=env_aliases)
    return dataclasses.field(default=default, metadata={_KEY: spec})


@dataclass(frozen=True)
class Declared:
    """One declared setting of a settings class."""

    name: str
    type: Any  # the field's type with ``None`` removed (``str | None`` -> ``str``)
    optional: bool
    default: Any
    spec: Spec

    def env_name(self, prefix: str) -> str:
        return prefix + self.name.upper()

    @property
    def flag(self) -> str:
        if self.spec.flag:
            return self.spec.flag
        dashed = "--" + self.name.replace("_", "-")
        return f"{dashed}/--no-{dashed[2:]}" if self.type is bool else dashed

    @property
    def shown_default(self) -> str | None:
        """The default as help shows it; ``None`` when there is none to show."""
        if self.default is None or self.default == ():
            return None
        if self.type is bool:
            return "on" if self.default else "off"
        if isinstance(self.default, Path) and not self.default.is_absolute():
            return f"./{self.default.as_posix()}"
        return str(self.default)


def declared(cls: type) -> list[Declared]:
    """The settings declared on ``cls`` with :func:`setting`, in declaration order."""
    hints = typing.get_type_hints(cls)
    found: list[Declared] = []
    for f in dataclasses.fields(cls):
        spec = f.metadata.get(_KEY)
        if spec is None:
            continue
        hint, optional = _unwrap(hints[f.name])
        found.append(Declared(f.name, hint, optional, f.default, spec))
    return found


def find(cls: type, name: str) -> Declared:
    for item in declared(cls):
        if item.name == name:
            return item
    raise KeyError(name)


def _unwrap(hint: Any) -> tuple[Any, bool]:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0], len(args) < len(typing.get_args(hint))
    return hint, False


def parse(item: Declared, raw: Any) -> Any:
    """``raw`` (text from the environment, or a TOML or command-line value) as the setting's
    type; :class:`ValueError` with a sentence when it is not one."""
    kind = item.type
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        low = str(raw).strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{raw!r} is not a yes/no value (use 1/0, true/false)")
    if kind is int:
        if isinstance(raw, bool):
            raise ValueError(f"{raw!r} is not a whole number")
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{raw!r} is not a whole number") from None
    if kind is float:
        if isinstance(raw, bool):
            raise ValueError(f"{raw!r} is not a number")
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{raw!r} is not a number") from None
    if kind is Path:
        return Path(raw)
    if typing.get_origin(kind) is tuple:
        items: Iterable[Any] = raw.replace(",", " ").split() if isinstance(raw, str) else raw
        return tuple(str(x).strip() for x in items if str(x).strip())
    if not isinstance(raw, str):
        raise ValueError(f"{raw!r} is not text")
    return raw


def merge(
    cls: type, layers: Iterable[tuple[str, Mapping[str, Any]]]
) -> tuple[dict[str, Any], list[str]]:
    """Values for ``cls`` from ``layers`` (``(where, {name: raw})``, lowest precedence first;
    ``None`` and empty values are "not given"), and every problem as ``"<where>: <why>"``."""
    items = {item.name: item for item in declared(cls)}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for where, layer in layers:
        for name, raw in layer.items():
            if raw is None or raw == "" or (isinstance(raw, tuple | list) and not raw):
                continue
            item = items.get(name)
            label = where.format(name=name, NAME=name.upper())
            if item is None:
                problems.append(f"{label}: unknown setting {name!r}")
                continue
            try:
                values[name] = parse(item, raw)
            except ValueError as exc:
                problems.append(f"{label}: {exc}")
    return values, problems


def environment(cls: type, prefix: str, environ: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The environment layer for :func:`merge`: ``{name: text}`` of ``<prefix><NAME>`` (or of a
    former name in ``env_aliases`` when the current one is not set)."""
    layer: dict[str, str] = {}
    for item in declared(cls):
        if not item.spec.env:
            continue
        for variable in (item.env_name(prefix), *item.spec.env_aliases):
            if environ.get(variable):
                layer[item.name] = environ[variable]
                break
    return prefix + "{NAME}", layer
