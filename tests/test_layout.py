"""The package layout the README's Architecture section promises: one package per stage,
dependencies pointing one way, no import cycles (lazy and TYPE_CHECKING imports included)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"

# Lower layers first; a module may import its own package and any lower layer, nothing else.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("bot", "bot.model", "bot.errors", "bot.log"),
    ("bot.classify",),
    ("bot.stories",),
    ("bot.config",),
    ("bot.net", "bot.notify", "bot.store"),
    ("bot.sources", "bot.route"),
    ("bot.poll", "bot.deliver", "bot.chat"),
    ("bot.ops",),
    ("bot.runtime", "bot.admin"),
    ("bot.cli",),
)
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}
# What an adapter may know of the config: the frozen types and what an address names.
CONFIG_FOR_SOURCES = {"bot.config.settings", "bot.config.addresses"}


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in BOT.rglob("*.py") if "migrations" not in p.parts}


def imports_of(module: str) -> set[str]:
    """Every bot module `module` imports, wherever the import statement sits."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{module}: relative import (the rule reads absolute names)"
            base = node.module or ""
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names
            ]
        else:
            continue
        found |= {name for name in names if name in MODULES and name != module}
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def unit_of(module: str) -> str:
    """The layer unit a module belongs to: its stage package, or itself at the top."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for succ in graph[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_through_a_cycle() -> None:
    assert cycles(GRAPH) == []


def test_cycle_finder_finds_a_lazy_cycle() -> None:
    # The check above is only worth something if it sees cycles: a → b → c → a.
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_stage_is_a_package_whose_docstring_says_what_it_may_import() -> None:
    for stage in (unit for units in LAYERS for unit in units if unit.count(".") == 1):
        init = BOT / stage.split(".")[1] / "__init__.py"
        if not init.exists():
            assert (BOT / f"{stage.split('.')[1]}.py").exists(), stage
            continue
        docstring = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "May import" in docstring, f"{init}: say what the stage may import"


def test_dependencies_point_down_the_layers() -> None:
    wrong = [
        f"{module} → {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if unit_of(target) != unit_of(module) and RANK[unit_of(target)] >= RANK[unit_of(module)]
    ]
    assert wrong == []


def test_adapters_and_config_builders_do_not_know_each_other() -> None:
    adapters_to_builders = [
        f"{module} → {target}"
        for module, targets in GRAPH.items()
        if module.startswith("bot.sources")
        for target in targets
        if target.startswith("bot.config") and target not in CONFIG_FOR_SOURCES
    ]
    config_to_sources = [
        f"{module} → {target}"
        for module, targets in GRAPH.items()
        if module.startswith("bot.config")
        for target in targets
        if target.startswith("bot.sources")
    ]
    assert adapters_to_builders == []
    assert config_to_sources == []


def test_few_modules_at_the_top_and_none_too_long() -> None:
    top = sorted(p.name for p in BOT.glob("*.py"))
    assert len(top) <= 8, top
    long = {
        str(p.relative_to(BOT)): n
        for p in BOT.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 350
    }
    assert long == {}


# Imports every bot module in one interpreter, noting any import that asks for a module still
# being initialised: that is a cycle Python tolerated, whatever order hid it.
_IMPORT_ALL = """
import builtins, importlib, pkgutil, sys
real = builtins.__import__
partial = []
def watching(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and name.split(".")[0] == "bot":
        for wanted in [name, *(f"{name}.{item}" for item in fromlist or ())]:
            module = sys.modules.get(wanted)
            spec = getattr(module, "__spec__", None)
            if module is not None and getattr(spec, "_initializing", False):
                partial.append(f"{(globals or {}).get('__name__')} -> {wanted}")
    return real(name, globals, locals, fromlist, level)
builtins.__import__ = watching
import bot.cli
import bot
for info in pkgutil.walk_packages(bot.__path__, "bot."):
    if ".migrations" not in info.name and not info.name.endswith("__main__"):
        importlib.import_module(info.name)
print("\\n".join(partial))
"""


def test_importing_every_module_meets_no_half_initialised_module() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("module", ["bot.cli", "bot.config.load"])
def test_config_check_path_does_not_load_the_network_or_telegram(module: str) -> None:
    # `postwatch check` must stay quick: the command line and config loading leave the HTTP
    # and Telegram stacks unimported until a command needs them.
    heavy = ("aiohttp", "telegram")
    code = f"import sys, {module}; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
