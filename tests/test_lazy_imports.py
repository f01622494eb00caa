"""A first answer in seconds (issue 19): config errors and re-plotting a saved run import no JAX.

Each check runs the console script's ``main()`` in a fresh interpreter and reads back which heavy
modules it imported; the lazy ``__init__`` of every theory package must keep its three lists (the
``TYPE_CHECKING`` re-exports read by griffe, ``__all__`` and ``_LAZY``) in step.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.smoke

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
HEAVY = ("jax", "jaxlib", "ml_dtypes", "optax", "numpyro", "scipy", "sklearn", "matplotlib.pyplot")

# The console script's main() in a fresh interpreter; the heavy modules loaded are reported on the way
# out, whether main() ends by SystemExit or (a finished `plot`) by os._exit.
_DRIVER = textwrap.dedent("""
    import json, os, sys
    HEAVY = {heavy!r}
    _exit = os._exit

    def report(code):
        print("LAZY-REPORT " + json.dumps({{"code": code, "heavy": [m for m in HEAVY if m in sys.modules]}}),
              flush=True)

    def quick_exit(code):
        report(code)
        _exit(code)

    os._exit = quick_exit
    sys.argv = ["statmech-attn", *{args!r}]
    from statmech_attn.cli import main
    try:
        main()
    except SystemExit as e:
        report(e.code)
        raise
""")


def _run_main(*args: str) -> tuple[dict, subprocess.CompletedProcess]:
    proc = subprocess.run([sys.executable, "-c", _DRIVER.format(heavy=HEAVY, args=list(args))], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("LAZY-REPORT ")]
    assert lines, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(lines[-1].split(" ", 1)[1]), proc


@pytest.mark.parametrize("args", [
    ("paths", "solve", "examples/paths_hmm.toml", "--set", "model.temperature=-1"),
    ("paths", "validate", "examples/paths_validate.toml", "--set", "model.temperature=-1"),
    ("potts", "replica", "examples/potts_replica.toml", "--set", "replica.ridge=-1"),
    ("potts", "train", "examples/potts_train.toml", "--set", "seed=-1"),
    ("energy", "analyse", "examples/energy.toml", "--set", "seed=-1"),
    ("oversmoothing", "analyse", "examples/oversmoothing.toml", "--set", "seed=-1"),
    ("factors", "fit", "examples/factors.toml", "--set", "seed=-1"),
    ("theory", "solve", "examples/theories/gcm_ridge.py", "--set", "alpha=-1"),
], ids=lambda a: " ".join(a[:2]))
def test_a_config_error_imports_no_jax(args):
    report, proc = _run_main(*args)
    assert report["code"] == 2 and proc.returncode == 2, proc.stderr
    err = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(err) == 1 and err[0].startswith("error: ") and "-1" in err[0], proc.stderr
    assert report["heavy"] == [], f"{' '.join(args[:2])} imported {report['heavy']}"


@pytest.fixture(scope="module")
def solve_run(tmp_path_factory) -> Path:
    """A ``paths solve`` run folder of the bundled example (a few seconds)."""
    import statmech_attn

    out = tmp_path_factory.mktemp("lazy") / "run"
    statmech_attn.run("paths solve", str(EXAMPLES / "paths_hmm.toml"), out=out)
    return out


def test_plotting_a_saved_run_imports_no_jax(solve_run):
    report, proc = _run_main("paths", "plot", str(solve_run))
    assert report["code"] == 0 and proc.returncode == 0, proc.stderr
    assert report["heavy"] == [], f"paths plot imported {report['heavy']}"
    for stem in ("order_parameters", "head_scores"):
        for ext in ("png", "pdf"):
            assert (solve_run / f"{stem}.{ext}").stat().st_size > 1000
            assert f"wrote {solve_run / f'{stem}.{ext}'}" in proc.stdout


def test_version_and_help_import_no_jax():
    for args in (("version",), ("--help",), ("paths", "--help")):
        report, proc = _run_main(*args)
        assert report["code"] in (0, None) and proc.returncode == 0, proc.stderr
        assert report["heavy"] == [], f"{args} imported {report['heavy']}"


THEORY_PACKAGES = ["paths", "potts", "energy", "oversmoothing", "factors", "theory"]


@pytest.mark.parametrize("package", [f"statmech_attn.{t}" for t in THEORY_PACKAGES]
                         + ["statmech_attn.validation.potts"])
def test_lazy_package_lists_agree(package):
    """``if TYPE_CHECKING:`` re-exports (griffe reads these), ``__all__`` and ``_LAZY`` name the same objects,
    and every public name resolves (and is listed by ``dir``)."""
    mod = importlib.import_module(package)
    tree = ast.parse(Path(mod.__file__).read_text(encoding="utf-8"))
    guarded: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.level == 1, ast.dump(stmt)
                for alias in stmt.names:
                    assert alias.asname, f"{package}: re-export {alias.name} without 'as' (griffe needs it)"
                    guarded[alias.asname] = ("." + stmt.module, alias.name)
    lazy = {name: (entry, name) if isinstance(entry, str) else tuple(entry) for name, entry in mod._LAZY.items()}
    assert guarded == lazy
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}
    assert sorted(mod.__all__) == sorted(set(lazy) | defined)
    for name in mod.__all__:
        value = getattr(mod, name)
        module, attr = lazy.get(name, (None, name))
        if module is not None:
            assert value is getattr(importlib.import_module(module, package), attr), name
        assert name in dir(mod)


def test_a_function_named_like_its_submodule_stays_the_function():
    """``statmech_attn.theory.solve`` is the solver even after ``import statmech_attn.theory.solve``."""
    code = ("import importlib, types, statmech_attn.theory as t; importlib.import_module('statmech_attn.theory.solve');"
            "from statmech_attn.theory import solve; assert not isinstance(solve, types.ModuleType), solve;"
            "assert t.solve is solve and solve.__module__ == 'statmech_attn.theory.solve', solve")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
