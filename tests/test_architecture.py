"""The shape of the package stays as designed: arrows point down, no import cycles, small modules.

Layers (top to bottom): the command line ``statmech_attn.cli``; the theories (``statmech_attn.<theory>``,
``statmech_attn.validation``, ``statmech_attn.derivations``); the foundation (``_solution``, ``errors``,
``config``, ``io``, ``compute``, ``progress``, ...).  Every import in the source is read with ``ast``
(function-level imports included), so a lazy import cannot hide an upward arrow.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"statmech_attn": ROOT / "statmech_attn", "statmech_attn.derivations": ROOT / "derivations",
           "statmech_attn.validation": ROOT / "validation"}
THEORIES = ("paths", "potts", "energy", "oversmoothing", "factors", "theory")
FOUNDATION = ("_solution", "errors", "config", "io", "compute", "progress", "_verb", "_version", "_cache", "_jit", "_aot")
#: the one deliberate exception: ``statmech_attn.run`` / ``load_run`` are the command line's Python twin,
#: resolved lazily by the package's ``__getattr__``
ALLOWED = {("statmech_attn", "statmech_attn.cli"), ("statmech_attn", "statmech_attn.cli._run"),
           ("statmech_attn.__main__", "statmech_attn.cli")}  # `python -m statmech_attn` is the command line
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for prefix, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([prefix, *parts])
            if prefix == "statmech_attn" and parts[:1] in (["derivations"], ["validation"]):
                continue
            mods[name] = path
    return mods


MODULES = _modules()


def _imports(name: str, path: Path, *, top_level_only: bool = False) -> set[str]:
    """Absolute names of the statmech_attn modules (or packages) that a module imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            subs = {f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in MODULES}
            found.update(subs)  # `from . import _task` imports the submodule ...
            if len(subs) < len(node.names):  # ... and names defined in the package import the package
                found.add(mod)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module" and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            found.add(node.args[0].value)
    return {m for m in found if m.split(".")[0] in ("statmech_attn", "typer")}


def _layer(mod: str) -> str:
    parts = mod.split(".")
    if mod == "typer" or parts[:2] == ["statmech_attn", "cli"]:
        return "cli"
    if parts[:2] == ["statmech_attn", "validation"]:
        return "validation"
    if parts[:2] == ["statmech_attn", "derivations"]:
        return "derivations"
    if len(parts) >= 2 and parts[1] in THEORIES:
        return "numbers"
    return "foundation"


#: which layers each layer may import
MAY_IMPORT = {
    "cli": {"cli", "validation", "derivations", "numbers", "foundation"},
    "validation": {"validation", "numbers", "foundation"},
    "numbers": {"numbers", "derivations", "foundation"},
    "derivations": {"derivations"},
    "foundation": {"foundation"},
}
DERIVATIONS_MAY_USE = {"statmech_attn.errors", "statmech_attn._solution"}


def test_every_layer_found():
    layers = {_layer(m) for m in MODULES}
    assert {"cli", "validation", "derivations", "numbers", "foundation"} <= layers


@pytest.mark.parametrize("name", sorted(MODULES))
def test_arrows_point_down(name):
    src = _layer(name)
    bad = []
    for target in sorted(_imports(name, MODULES[name])):
        if (name, target) in ALLOWED:
            continue
        dst = _layer(target)
        if target == "typer" and src != "cli":
            bad.append(f"{target} (only the command line imports typer)")
        elif src == "derivations" and dst != "derivations":
            if target not in DERIVATIONS_MAY_USE and target != "statmech_attn":
                bad.append(target)
        elif dst not in MAY_IMPORT[src]:
            bad.append(f"{target} ({src} -> {dst})")
    assert not bad, f"{name} imports upward: " + ", ".join(bad)


def test_no_import_cycles():
    """Module-level imports form no cycle (Tarjan's strongly connected components)."""
    graph = {m: {t for t in _imports(m, p, top_level_only=True) if t in MODULES and t != m}
             for m, p in MODULES.items()}
    sys.setrecursionlimit(10_000)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            # a package's __init__ re-exporting its submodules is not a cycle unless a submodule
            # imports the package back at module level
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_over_600_lines(name):
    n = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{name} has {n} lines (at most {MAX_LINES}: split it along its jobs)"


@pytest.mark.parametrize("theory", [t for t in THEORIES if (ROOT / "statmech_attn" / t).is_dir()])
def test_every_theory_has_the_skeleton(theory):
    folder = ROOT / "statmech_attn" / theory
    have = {p.name for p in folder.glob("*.py")}
    assert {"__init__.py", "spec.py", "plots.py", "verbs.py"} <= have, sorted(have)
    # potts keeps its records in verbs.py / replica (a replica point is already a record)
    assert "records.py" in have or theory == "potts"


def test_nothing_generic_is_installed_at_top_level(tmp_path):
    """``derivations`` and ``validation`` install under the package's namespace only: outside the
    repository, ``import derivations`` fails and ``statmech_attn.derivations`` works."""
    import subprocess

    code = ("import importlib.util as u, statmech_attn.derivations, statmech_attn.validation; "
            "print(u.find_spec('derivations') is None, u.find_spec('validation') is None)")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "True"]
