"""The verbs of ``paths``: ``solve``, ``sweep``, ``gp`` (config -> record) and re-plotting saved runs.

Pure functions of the validated config (usable from Python and by the grid execution layer);
``paths validate`` runs finite networks: :mod:`statmech_attn.validation.paths.verbs`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .._verb import Verb, VerbOutput
from ..errors import InputError
from .records import solution_record, solve_summary
from .spec import PathsSpec, model_from_config

if TYPE_CHECKING:  # the numbers (JAX) are imported by the compute functions: a config error or a plot loads none
    from ._action import PathsProblem
    from ._data import PathsData


def load_problem(cfg: PathsSpec) -> tuple[PathsProblem, PathsData]:
    """Data (NPZ or bundled task) and the saddle-point problem of a config."""
    from . import _task, problem_from_data
    from ._data import load_data

    if cfg.data.npz:
        data = load_data(cfg.data.npz, "data.npz")
    else:
        data = _task.hmm_task_cached(cfg.data.hmm)
    model = model_from_config(cfg.model, data.heads)
    return problem_from_data(model, data), data


def run_solve(cfg: PathsSpec) -> VerbOutput:
    """``paths solve``: the saddle point of one config."""
    from . import solve

    problem, _ = load_problem(cfg)
    s = cfg.solver
    sol = solve(problem, solver=s.method, max_steps=s.max_steps, tol=s.tol, throw=False,
                **({"learning_rate": s.learning_rate} if s.method == "adam" else {}),
                **({"damping": s.damping, "anderson": s.anderson} if s.method == "fixed_point" else {}))
    rec = solution_record(sol, problem)
    return VerbOutput(result=rec, ok=sol.converged, summary=solve_summary(rec),
                      message=f"paths solve: {sol.result.value} after {sol.iterations} iterations (residual {sol.residual:.3e})")


def sweep_records(cfg: PathsSpec, alphas: Sequence[float], init: Any = None) -> list[dict[str, Any]]:
    """One solution record per α (Newton, continuation along the grid)."""
    from . import sweep

    problem, _ = load_problem(cfg)
    sols = sweep(problem, alphas, tol=cfg.solver.tol, max_steps=cfg.solver.max_steps, init=init)
    return [solution_record(s, problem.with_alpha(float(a))) for s, a in zip(sols, alphas)]


def sweep_task(context: tuple[PathsProblem, Any, int], points: Sequence[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Grid task of ``paths sweep`` (statmech_attn.compute): one continuation over a chunk of neighbouring α."""
    from . import sweep

    problem, solver, chunk = context
    alphas = [float(p["alpha"]) for p in points]
    # pad to the chunk length with the largest α (solved last, from its own converged point), so
    # that every task has the same shape and the compiled sweep is reused
    padded = alphas + [max(alphas)] * max(0, chunk - len(alphas))
    sols = sweep(problem, padded, tol=solver.tol, max_steps=solver.max_steps)[:len(alphas)]
    return [solution_record(s, problem.with_alpha(a)) for s, a in zip(sols, alphas)]


def sweep_identity(cfg: PathsSpec) -> dict[str, Any]:
    """The resolved config minus the grid ([sweep]), [compute] and [validate]: what a resumed sweep must match."""
    import hashlib
    from pathlib import Path

    from ..config import to_toml_dict

    ident = {k: v for k, v in to_toml_dict(cfg).items() if k not in ("sweep", "compute", "validate")}
    if cfg.data.npz and Path(cfg.data.npz).is_file():
        ident["data_sha256"] = hashlib.sha256(Path(cfg.data.npz).read_bytes()).hexdigest()
    return ident


def run_sweep(cfg: PathsSpec, alphas: Sequence[float] | None = None, *, out: Any = None, resume: bool = False,
              scheduler: str | None = None) -> VerbOutput:
    """``paths sweep``: solutions over the α grid of the config (or ``alphas``).

    The grid runs through :mod:`statmech_attn.compute`: chunks of ``[compute] chunk`` neighbouring
    α per task (continuation inside a chunk), one file per point under ``out/points/``.
    """
    from ..compute import Grid, resolve_scheduler, run_grid

    grid = np.asarray(alphas if alphas is not None else cfg.sweep.grid(), dtype=np.float64)
    sched = resolve_scheduler(cfg.compute, scheduler)
    problem, _ = load_problem(cfg)
    try:
        g = Grid.of(along="alpha", chunk=cfg.compute.chunk, alpha=grid.tolist())
    except InputError as e:
        raise InputError("sweep.alphas", e.value, e.allowed) from None
    res = run_grid(sweep_task, (problem, cfg.solver, cfg.compute.chunk), g, out=out, resume=resume, identity=sweep_identity(cfg),
                   scheduler=sched, seed=cfg.seed, description="paths sweep")
    points = [dict(p.record) for p in res.points]
    ok = res.ok
    n_bad = sum(not p.ok for p in res.points)
    summary = [("points", len(points)), ("converged", len(points) - n_bad),
               ("max residual", max(p.get("residual", float("nan")) for p in points)),
               ("computed now", f"{res.computed} points in {res.tasks_run} tasks ({res.scheduler})")]
    return VerbOutput(result={"alphas": grid, "points": points}, ok=ok, summary=summary,
                      message=f"paths sweep: {n_bad} of {len(points)} points did not converge")


def run_gp(cfg: PathsSpec) -> VerbOutput:
    """``paths gp``: the Gaussian-process limit (N → ∞ at fixed P)."""
    from . import gp_kernel, gp_order_parameters, gp_predict, kernel_alignment, test_error

    problem, _ = load_problem(cfg)
    gp = gp_order_parameters(problem.model)
    xs = problem.xt_test if problem.xt_test is not None else problem.xt_train
    ys = problem.y_test if problem.xt_test is not None else problem.y_train
    pred = gp_predict(problem, xs)
    rec: dict[str, Any] = {
        "U_a": float(gp.U_a),
        "order_parameters": [np.asarray(u).tolist() for u in gp.U],
        "evaluated_on": "test" if problem.xt_test is not None else "train",
        "predictor_mean": np.asarray(pred.mean),
        "predictor_variance": np.asarray(pred.variance),
    }
    if ys is not None:
        errs = test_error(pred, ys)
        rec.update({"test_error": errs["test_error"], "accuracy": errs["accuracy"]})
    rec["alignment"] = kernel_alignment(gp_kernel(problem.xt_train, problem.model), problem.y_train)["scalar"]
    return VerbOutput(result=rec, summary=[(k, v) for k, v in rec.items() if isinstance(v, (int, float, str))])



def plot_solve(record: dict[str, Any], arrays: dict[str, Any]) -> Any:
    """Figures of a saved ``paths solve`` run."""
    from .plots import solve_figures

    return solve_figures(record, arrays)


def plot_sweep(record: dict[str, Any], arrays: dict[str, Any]) -> Any:
    """Figures of a saved ``paths sweep`` run."""
    from .plots import sweep_figures

    return sweep_figures(record, arrays)


VERBS = {
    "solve": Verb(PathsSpec, run_solve),
    "sweep": Verb(PathsSpec, run_sweep, options=("alphas",), grid=True),
    "gp": Verb(PathsSpec, run_gp),
}
PLOTS = {"solve": plot_solve, "sweep": plot_sweep}
