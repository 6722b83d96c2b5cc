"""Imports run one way (docs/architecture.md): each rule is checked on every module of every
package, imports inside functions included, so a lazy import cannot slip past."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import dingbridge

ROOT = Path(dingbridge.__file__).parent
FRAMEWORKS = ("fastapi", "starlette")
STORAGE_LIBRARIES = ("sqlalchemy", "alembic", "aiosqlite", "psycopg", "redis")


def _group(module: Path) -> str:
    """``web``, ``dingtalk``, ... for a package's modules; the file name for top-level ones."""
    parts = module.relative_to(ROOT).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def _imports(module: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


MODULES = sorted(ROOT.rglob("*.py"))
GROUPS = sorted({_group(module) for module in MODULES})


@dataclass(frozen=True)
class Rule:
    why: str
    applies: tuple[str, ...] | None  # groups the rule constrains; None: all but ``exempt``
    banned: tuple[str, ...]
    exempt: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()  # within ``banned``, still allowed

    def constrains(self, group: str, module: str = "") -> bool:
        """Whether the rule holds for ``module`` (a path like ``doctor/runner.py``) of
        ``group``; ``applies`` names groups or single modules."""
        if group in self.exempt:
            return False
        return self.applies is None or group in self.applies or module in self.applies

    def broken_by(self, name: str) -> bool:
        hit = any(name == ban or name.startswith(ban + ".") for ban in self.banned)
        kept = any(name == ok or name.startswith(ok + ".") for ok in self.allowed)
        return hit and not kept


RULES = (
    Rule(
        "only the server's web layer uses the framework (the simulator and the sample app "
        "are ASGI apps of their own)",
        None,
        FRAMEWORKS,
        exempt=("app", "web", "sim", "sample_app"),
    ),
    Rule("nothing outside web/ imports dingbridge.web", None, ("dingbridge.web",), ("app", "web")),
    Rule(
        "the DingTalk protocol package imports no web, storage or KV code (the message "
        "catalogs, standard library and Babel only, serve it like every layer)",
        ("dingtalk",),
        ("dingbridge", *FRAMEWORKS, *STORAGE_LIBRARIES, "jinja2", "uvicorn"),
        allowed=("dingbridge.dingtalk", "dingbridge.redact", "dingbridge.i18n"),
    ),
    Rule(
        "the forwarder imports nothing of dingbridge but itself, redact and the settings "
        "declarations (both standard library only)",
        ("forwarder",),
        ("dingbridge",),
        allowed=("dingbridge.forwarder", "dingbridge.redact", "dingbridge.setting_fields"),
    ),
    Rule(
        "the message catalogs serve every layer (the DingTalk protocol package too), so they "
        "import none, nor a framework, storage or templates",
        ("i18n",),
        ("dingbridge", *FRAMEWORKS, *STORAGE_LIBRARIES, "jinja2", "uvicorn"),
        allowed=("dingbridge.i18n",),
    ),
    Rule(
        "storage and the KV know nothing of the domain",
        ("storage", "kv"),
        ("dingbridge",),
        allowed=("dingbridge.storage", "dingbridge.kv"),
    ),
    Rule(
        "the doctor's checks are protocol code: no web framework, no database layer",
        ("doctor/runner.py", "doctor/probe.py", "doctor/results.py", "doctor/report.py"),
        (*FRAMEWORKS, *STORAGE_LIBRARIES, "jinja2", "dingbridge.storage"),
    ),
    Rule(
        "the OpenID provider sits above the sign-in domain: nothing below it imports it "
        "(the sign-in tells it of ended sessions through SignInServices.session_listeners)",
        ("accounts", "signin", "spaces", "doctor", "storage", "kv", "context"),
        ("dingbridge.oidc",),
    ),
    Rule(
        "domain packages take the shared objects from dingbridge.context, never from the app",
        ("accounts", "signin", "spaces", "doctor", "gate", "oidc", "events"),
        ("dingbridge.app", "dingbridge.commands", "dingbridge.cli", "dingbridge.demo"),
    ),
    Rule(
        "the settings declarations serve every layer, the forwarder included: standard "
        "library only",
        ("setting_fields",),
        ("dingbridge", *FRAMEWORKS, *STORAGE_LIBRARIES, "typer", "click", "pydantic"),
        allowed=("dingbridge.setting_fields",),
    ),
)


@pytest.mark.parametrize("group", GROUPS)
def test_imports_run_one_way(group: str) -> None:
    broken = [
        f"{module.relative_to(ROOT)} imports {name}: {rule.why}"
        for module in MODULES
        if _group(module) == group
        for name in sorted(_imports(module))
        for rule in RULES
        if rule.constrains(group, module.relative_to(ROOT).as_posix()) and rule.broken_by(name)
    ]
    assert broken == []


def test_the_rules_catch_a_breach() -> None:
    """The checker itself: a web import in the protocol package is reported."""
    source = "def f():\n    from dingbridge.web.console import pages\n    import starlette\n"
    tree_names = {
        n.module for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom) and n.module
    }
    dingtalk_rule = RULES[2]
    assert any(dingtalk_rule.broken_by(name) for name in tree_names)
    assert RULES[0].constrains("spaces") and not RULES[0].constrains("web")
    assert RULES[6].constrains("doctor", "doctor/runner.py")
    assert not RULES[6].constrains("doctor", "doctor/space_checks.py")


@pytest.mark.parametrize(
    "module",
    [m for m in MODULES if _group(m) == "web"],
    ids=lambda m: m.relative_to(ROOT).as_posix(),
)
def test_web_modules_hold_no_queries(module: Path) -> None:
    """A route parses, calls one domain function and renders: database work lives in the
    domain packages (accounts, signin, spaces)."""
    source = module.read_text(encoding="utf-8")
    assert not any(word in source for word in ("select(", "session.add(", "session.delete("))
