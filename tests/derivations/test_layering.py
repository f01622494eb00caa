"""Arrows point down: the derivations import nothing of the numbers but ``errors`` and ``_solution``."""

import ast
from pathlib import Path

import statmech_attn.derivations as derivations

ALLOWED = ("statmech_attn.derivations", "statmech_attn.errors", "statmech_attn._solution")


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names)


def test_derivations_import_only_the_foundation_of_the_package():
    root = Path(derivations.__file__).parent
    bad = sorted(f"{p.relative_to(root)}: {name}" for p in root.rglob("*.py") for name in _imports(p)
                 if (name == "statmech_attn" or name.startswith("statmech_attn."))
                 and not name.startswith(ALLOWED))
    assert not bad, bad


def test_no_module_of_the_derivations_is_over_600_lines():
    root = Path(derivations.__file__).parent
    long = {str(p.relative_to(root)): n for p in root.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert not long, long
