"""The verbs of ``statmech-attn theory``, free of typer: ``derive``, ``solve``, ``sweep``, ``plot``.

The command line and :func:`statmech_attn.run` share these.  A theory FILE is the user's own Python:
it is *executed* (``runpy.run_path``), like pytest executes a ``conftest.py``, and must define
``theory = Theory(...)``.  Only load files you trust.  Configs stay data: ``--set`` overrides control
parameters (``--set alpha=2``) and the solver settings ``method``, ``tol``, ``max_steps``,
``damping`` and ``cubature_order``.

Errors in a theory file (a missing ``theory``, an order parameter that never appears, a non-finite
free energy at the start, a control parameter out of range, an exception while running the file)
raise :class:`statmech_attn.errors.InputError` naming the parameter.
"""

from __future__ import annotations

import dataclasses
import hashlib
import runpy
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ..errors import InputError
from . import records as _records

if TYPE_CHECKING:  # SymPy: imported by the functions that load a theory, so `theory plot` needs none
    from .spec import Theory

from .. import config as c
from .._verb import Verb, VerbOutput

__all__ = ["VerbOutput", "TheoryRun", "load_theory", "parse_sets", "derive", "solve", "sweep", "plot",
           "SOLVER_KEYS", "VERBS", "PLOTS"]

SOLVER_KEYS = {"method": str, "tol": float, "max_steps": int, "damping": float, "cubature_order": int}
_CACHE: dict[tuple[str, float], Theory] = {}


def _is_theory(obj: Any) -> bool:
    """``isinstance(obj, Theory)``, without importing SymPy for a path (a Theory object has imported it)."""
    from .spec import Theory

    return isinstance(obj, Theory)


def load_theory(file: str | Path | Theory) -> Theory:
    """Run a theory file and return its ``theory`` (a :class:`Theory` passes through)."""
    from .spec import Theory

    if isinstance(file, Theory):
        return file
    path = Path(file)
    if not path.is_file() or path.suffix != ".py":
        raise InputError("file", str(file), "must be an existing Python file (.py) that defines `theory`")
    key = (str(path.resolve()), path.stat().st_mtime)
    if key in _CACHE:
        return _CACHE[key]
    try:
        ns = runpy.run_path(str(path), run_name="__statmech_attn_theory__")
    except InputError:
        raise
    except SyntaxError as e:
        raise InputError("file", str(path), f"is not valid Python (line {e.lineno}: {e.msg})") from None
    except Exception as e:  # noqa: BLE001 - the user's code failed: one line naming it
        raise InputError("file", str(path), f"raised {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                         ) from None
    theory = ns.get("theory")
    if theory is None:
        raise InputError("theory", str(path), "the file must define `theory = Theory(...)`")
    if not isinstance(theory, Theory):
        raise InputError("theory", type(theory).__name__, "must be a statmech_attn.theory.Theory")
    _CACHE[key] = theory
    return theory


def parse_sets(theory: Theory, sets: Sequence[str] | Mapping[str, Any] | None) -> tuple[dict[str, float], dict[str, Any]]:
    """``["alpha=2", "tol=1e-12"]`` → (control values, solver settings); every key and value checked."""
    items = list(sets.items()) if isinstance(sets, Mapping) else []
    for s in ([] if isinstance(sets, Mapping) else list(sets or [])):
        if "=" not in s:
            raise InputError("--set", s, "must be key=value")
        k, v = s.split("=", 1)
        items.append((k.strip(), v.strip()))
    controls: dict[str, float] = {}
    solver: dict[str, Any] = {}
    for k, v in items:
        if k in SOLVER_KEYS:
            try:
                solver[k] = SOLVER_KEYS[k](v) if SOLVER_KEYS[k] is not int else int(float(v))
            except (TypeError, ValueError):
                raise InputError(k, v, f"must be a {SOLVER_KEYS[k].__name__}") from None
        elif k in theory.control_names:
            controls[k] = theory.control(k).check(v)
        else:
            raise InputError("--set", k, "must be a control parameter (" + ", ".join(theory.control_names)
                             + ") or a solver setting (" + ", ".join(SOLVER_KEYS) + ")")
    return controls, solver


def _configured(file: str | Path | Theory, sets: Any) -> tuple[Theory, dict[str, float], dict[str, Any]]:
    theory = load_theory(file)
    controls, solver = parse_sets(theory, sets)
    if "cubature_order" in solver:
        if solver["cubature_order"] < 1:
            raise InputError("cubature_order", solver["cubature_order"], "must be an integer >= 1")
        theory = theory.replace(cubature_order=solver.pop("cubature_order"))
    return theory, theory.controls(controls), solver


def derive(file: str | Path | Theory, sets: Any = (), *, latex: str | Path | None = None) -> VerbOutput:
    """The stationarity conditions and fixed-point forms; ``latex``: also write them as a .tex file."""
    theory, _, _ = _configured(file, sets)
    from .solve import derive as _derive  # (JAX) after the checks: a config error or a plot loads none

    d = _derive(theory)
    if latex is not None:
        from ..io import atomic_write_text

        atomic_write_text(latex, d.latex() + "\n")
    result = d.as_dict()
    result["text"] = d.text()
    return VerbOutput(result=result, summary=[("theory", theory.name), ("conditions", len(d.conditions)),
                                              ("fixed-point form", d.fixed_point is not None)])


def solve(file: str | Path | Theory, sets: Any = (), *, init: Any = None, cubature_check: bool = True) -> VerbOutput:
    """One certified solve at the control values of ``sets`` (defaults elsewhere)."""
    theory, controls, solver = _configured(file, sets)
    from .solve import solve as _solve

    sol = _solve(theory, controls, init=init, throw=False, cubature_check=cubature_check, **solver)
    rec = _records.solve_record(theory, sol)
    rows = [(k, rec[k]) for k in (*theory.control_names, *theory.order_names, *theory.observable_names,
                                  "free_energy", "residual", "iterations", "result", "extremum",
                                  "min_hessian_eigenvalue", "cubature_change") if k in rec]
    return VerbOutput(result=rec, ok=sol.converged, summary=rows,
                      message=f"theory solve: {sol.result.value} after {sol.iterations} iterations "
                              f"(residual {sol.residual:.3e})")


def _file_identity(file: str | Path | Theory) -> dict[str, Any]:
    if _is_theory(file):
        return {"theory": file.name}
    data = Path(file).read_bytes()
    return {"file": str(Path(file).resolve()), "sha256": hashlib.sha256(data).hexdigest()}


def _sweep_task(context: Mapping[str, Any], points: Sequence[Mapping[str, Any]], seed: int) -> list[Any]:
    """A chunk of a sweep (consecutive values, continuation inside): one PointOutput per point."""
    from ..compute import PointOutput
    from .solve import sweep as _sweep

    theory = context["theory"] if context.get("theory") is not None else load_theory(context["file"])
    if context.get("cubature_order"):
        theory = _ordered(theory, context["cubature_order"])
    over = context["over"]
    sols = _sweep(theory, over, [p[over] for p in points], context["controls"], **context["solver"],
                  cubature_check=context["cubature_check"])
    return [PointOutput(_records.point_record(theory, s), None, ok=s.converged) for s in sols]


_ORDERED: dict[tuple[int, int], Theory] = {}


def _ordered(theory: Theory, order: int) -> Theory:
    """The theory with another cubature order (one copy per order, so compiled code is reused)."""
    key = (id(theory), int(order))
    if key not in _ORDERED:
        _ORDERED[key] = theory.replace(cubature_order=int(order))
    return _ORDERED[key]


def sweep(file: str | Path | Theory, over: str, values: Sequence[float], sets: Any = (), *,
          out: str | Path | None = None, resume: bool = False, scheduler: str | None = None, chunk: int = 25,
          arclength: bool = False, cubature_check: bool = False) -> VerbOutput:
    """Solve along ``over`` at ``values`` through :func:`statmech_attn.compute.run_grid` (resume,
    dask; continuation inside chunks of ``chunk`` neighbouring values), or, with ``arclength``, follow
    the branch from min(values) to max(values) by pseudo-arclength continuation (in this process)."""
    from ..compute import Grid, run_grid

    theory, controls, solver = _configured(file, sets)
    if over not in theory.control_names:
        raise InputError("--over", over, "must be a control parameter: " + ", ".join(theory.control_names))
    vals = [theory.control(over).check(v) for v in values]
    if not vals:
        raise InputError("--values", [], "a sweep needs at least one value")
    fixed = {k: v for k, v in controls.items() if k != over}
    if arclength:
        from .solve import continuation as _continuation

        sols = _continuation(theory, over, min(vals), max(vals), fixed,
                             **{k: v for k, v in solver.items() if k in ("tol", "max_steps")})
        pts = [_records.point_record(theory, s) for s in sols]
        rec = _records.sweep_record(theory, over, pts, branch="pseudo-arclength")
    else:
        grid = Grid.of(along=over, chunk=max(1, int(chunk)), **{over: vals})
        original = load_theory(file)
        context = {"file": None if _is_theory(file) else str(Path(file).resolve()),
                   "theory": original if _is_theory(file) or scheduler in (None, "serial") else None,
                   "cubature_order": theory.cubature_order if theory.cubature_order != original.cubature_order else 0,
                   "over": over, "controls": fixed, "solver": solver, "cubature_check": cubature_check}
        identity = {**_file_identity(file), "controls": fixed, "solver": solver,
                    "cubature_order": theory.cubature_order, "cubature_check": cubature_check}
        res = run_grid(_sweep_task, context, grid, out=out, resume=resume, identity=identity, scheduler=scheduler,
                       description=f"theory sweep over {over}")
        pts = []
        for p in res.points:
            r = {over: p.point[over], **p.record}
            r.setdefault("converged", False)
            if p.error:
                r["error"] = p.error
            pts.append(r)
        rec = _records.sweep_record(theory, over, pts)
    from .plots import figures

    ok = rec["converged"]
    return VerbOutput(result=rec, ok=ok, figures=figures(rec),
                      summary=[("theory", theory.name), ("over", over), ("points", rec["n_points"]),
                               ("converged", rec["n_converged"]), ("stability changes", len(rec["stability_changes"]))],
                      message="" if ok else f"theory sweep: {rec['n_points'] - rec['n_converged']} of "
                                            f"{rec['n_points']} points did not converge")


def plot(run_dir: str | Path) -> list[tuple[Any, str]]:
    """Figures (figure, stem) of a saved ``theory sweep`` run directory (no recomputation)."""
    from ..io import read_result
    from .plots import figures

    record = read_result(run_dir)
    if record.get("theory") != "theory" or record.get("verb") != "sweep":
        raise InputError("run_dir", str(run_dir), f"holds a '{record.get('theory')} {record.get('verb')}' run; "
                         "expected 'theory sweep'")
    return figures(record["result"])


@dataclasses.dataclass(frozen=True)
class TheoryRun(c.Spec):
    """What ``theory solve`` / ``theory sweep`` run (the config of ``statmech_attn.run("theory ...", {...})``;
    the command line fills it from its arguments)."""

    file: str = c.field("", path=True, doc="the theory file (Python that defines `theory`; it is executed)")
    set: tuple[str, ...] = c.field((), doc="control parameters and solver settings, e.g. 'alpha=2', 'tol=1e-12'")
    over: str = c.field("", doc="sweep: the control parameter to sweep")
    values: tuple[float, ...] = c.field((), doc="sweep: the values of `over`")
    arclength: bool = c.field(False, doc="sweep: follow the branch through folds from min to max of `values`")
    chunk: int = c.field(25, check=c.at_least(1), doc="sweep: values per grid task (continuation runs inside)")

    def __post_init__(self) -> None:
        if not self.file:
            raise InputError("file", self.file, "is required: a theory file (Python that defines `theory`)")


def run_solve(spec: TheoryRun) -> VerbOutput:
    """``theory solve``: one certified solve of the file's theory."""
    return solve(spec.file, spec.set)


def run_sweep(spec: TheoryRun, *, out: str | Path | None = None, resume: bool = False,
              scheduler: str | None = None) -> VerbOutput:
    """``theory sweep``: continuation along ``over`` through the grid layer (resume, dask)."""
    if not spec.over:
        raise InputError("over", spec.over, "is required: the control parameter to sweep")
    return sweep(spec.file, spec.over, spec.values, spec.set, out=out, resume=resume, scheduler=scheduler,
                 chunk=spec.chunk, arclength=spec.arclength)


def plot_sweep(record: dict[str, Any], arrays: dict[str, Any]) -> list[tuple[Any, str]]:
    """Figures of a saved ``theory sweep`` run."""
    from .plots import figures

    return figures(record["result"])


VERBS = {"solve": Verb(TheoryRun, run_solve), "sweep": Verb(TheoryRun, run_sweep, grid=True)}
PLOTS = {"sweep": plot_sweep}


def values_grid(values: str | None = None, vmin: float | None = None, vmax: float | None = None,
                n: int | None = None, *, param: str = "--values") -> list[float]:
    """``"0.1,0.5,1"`` or ``n`` log-spaced values from ``vmin`` to ``vmax`` (linear if vmin <= 0)."""
    if values:
        try:
            return [float(v) for v in str(values).replace(" ", "").split(",") if v]
        except ValueError:
            raise InputError(param, values, "must be comma-separated numbers, e.g. 0.1,0.5,1,2") from None
    if vmin is None or vmax is None or n is None:
        raise InputError(param, None, "give --values a,b,c or --min, --max and --n")
    if n < 1 or not vmax > vmin:
        raise InputError("--n", n, "needs n >= 1 and --max > --min")
    if vmin > 0:
        return [float(v) for v in np.geomspace(vmin, vmax, n)]
    return [float(v) for v in np.linspace(vmin, vmax, n)]


