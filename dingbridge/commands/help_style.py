"""Help pages the way well-liked click/typer tools (uv, httpie) write them.

Typer 0.29 prints a value placeholder for every option, switches included (``--json <bool>``,
``--help <bool>``), and wraps required arguments in braces in the usage line
(``member import [OPTIONS] {SPACE} {FILE}``). :class:`TidyGroup`, the root group's class, fixes
every command of the tree once it is built: switches take no placeholder, required arguments
read ``SPACE``, optional ones ``[SPACE]``.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperGroup, TyperOption


def _tidy_parameter(param: Any) -> None:
    if isinstance(param, TyperOption) and param.is_flag:
        # A switch takes no value: no placeholder in its help row.
        setattr(param, "display_type_rich", lambda ctx: None)  # noqa: B010
    elif isinstance(param, TyperArgument):
        name = param.display_name_raw
        shown = name if param.required else f"[{name}]"
        shown += "..." if param.nargs != 1 else ""
        setattr(param, "_usage_display_name", lambda: shown)  # noqa: B010


def tidy(command: Any) -> None:
    """Tidy ``command``'s parameters, its help option and every sub-command."""
    for param in command.params:
        _tidy_parameter(param)
    original = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = original(ctx)
        if option is not None:
            _tidy_parameter(option)
        return option

    setattr(command, "get_help_option", get_help_option)  # noqa: B010
    for sub in getattr(command, "commands", {}).values():
        tidy(sub)


class TidyGroup(TyperGroup):
    """The root group: tidies the whole command tree (see the module docstring)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        tidy(self)
