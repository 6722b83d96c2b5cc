"""Command-line options generated from the settings declarations (``dingbridge.setting_fields``),
so a setting's flag, help, default and environment variable are written once.

``@settings_options(Settings, ["host", "port"], env_prefix="DINGBRIDGE_")`` adds ``--host`` and
``--port`` to a command and hands the command the values given as ``given: dict`` (``None``
for an option not given: the environment or the default then decides, in ``Settings.load``).
Help shows each option's default; whether a value was typed is asked of click (its parameter
source), so an option left out never hides the environment variable.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import typer
from typer._click.core import ParameterSource

from dingbridge.setting_fields import Declared, find

_CONTEXT = "typer_context"


def option_help(item: Declared, env_prefix: str) -> str:
    env = f" (env: {item.env_name(env_prefix)})" if item.spec.env else ""
    return item.spec.help + env


def settings_option(cls: type, name: str, *, env_prefix: str, show_default: bool = False) -> Any:
    """One generated option. As a plain parameter default (``data_dir: Path | None = …``) it
    defaults to ``None`` (not given); :func:`settings_options` shows the real default."""
    item = find(cls, name)
    if not item.spec.cli:
        raise ValueError(f"{name} is not offered on the command line (a secret?)")
    shown = item.shown_default if show_default else None
    return typer.Option(
        _default(item) if show_default else None,
        item.flag,
        help=option_help(item, env_prefix),
        metavar=item.spec.metavar,
        show_default=shown is not None,
    )


def _default(item: Declared) -> Any:
    if typing.get_origin(item.type) is tuple:
        return None
    return item.shown_default if item.type is Path else item.default


def _annotation(item: Declared) -> Any:
    if typing.get_origin(item.type) is tuple:
        return list[str] | None  # repeatable: --allow A --allow B
    return item.type | None


def settings_options(
    cls: type, names: Sequence[str], *, env_prefix: str
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Add an option per setting in ``names`` to the decorated command, which receives them
    as the keyword argument ``given`` (name -> value or ``None``)."""
    items = [find(cls, name) for name in names]

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(command)
        hints = typing.get_type_hints(command, include_extras=True)  # Annotated[…, Option()]
        kept = [
            p.replace(annotation=hints.get(p.name, p.annotation))
            for p in signature.parameters.values()
            if p.name != "given"
        ]
        generated = [
            inspect.Parameter(
                item.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=settings_option(cls, item.name, env_prefix=env_prefix, show_default=True),
                annotation=_annotation(item),
            )
            for item in items
        ]

        context = inspect.Parameter(
            _CONTEXT, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context
        )

        @functools.wraps(command)
        def run(**values: Any) -> None:
            ctx: typer.Context = values.pop(_CONTEXT)
            given: dict[str, Any] = {}
            for item in items:
                value = values.pop(item.name)
                if ctx.get_parameter_source(item.name) is ParameterSource.DEFAULT:
                    value = None  # left out: the environment, else the default, decides
                given[item.name] = tuple(value) if isinstance(value, list) else value
            command(given=given, **values)

        run.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[
                *(p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in kept),
                *generated,
                context,
            ]
        )
        return run

    return decorate
