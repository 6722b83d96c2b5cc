"""Command modules. Each exposes ``register(app)``; keep imports inside command bodies."""

from __future__ import annotations

import importlib

import typer

# Module names under dingbridge.commands, in the order their commands appear in --help.
MODULES: list[str] = [
    "serve",
    "admin",
    "space",
    "member",
    "app",
    "db",
    "sim",
    "forward",
    "demo",
    "doctor",
]


def register_all(app: typer.Typer) -> None:
    for name in MODULES:
        module = importlib.import_module(f"dingbridge.commands.{name}")
        module.register(app)
