"""Command modules of ``dingbridge`` (wired in ``dingbridge.cli``): a command group is a
module-level ``cli = typer.Typer(...)``, a single command a module-level function. Keep heavy
imports inside command bodies."""
