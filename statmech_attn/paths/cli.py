"""``statmech-attn paths ...``: solve, sweep, gp (and validate/plot, derive paths when installed).

Thin: parse -> config -> API -> io.  The compute functions below are pure functions of the config
(usable from Python and by the grid execution layer).
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any, Optional, Sequence

import numpy as np
import typer

from .._cli_common import ConfigArg, ForceOpt, JsonOpt, OutOpt, ResumeOpt, SetOpt, VerbOutput, execute
from ..compute import SchedulerOpt
from ..errors import InputError
from . import _task
from ._action import PathsProblem
from ._data import PathsData, load_data
from .config import PathsConfig, model_from_config

app = typer.Typer(no_args_is_help=True, add_completion=False)


# ------------------------------------------------------------------------------------------
# pure compute functions


def load_problem(cfg: PathsConfig) -> tuple[PathsProblem, PathsData]:
    """Data (NPZ or bundled task) and the saddle-point problem of a config."""
    from . import problem_from_data

    if cfg.data.npz:
        data = load_data(cfg.data.npz, "data.npz")
    else:
        data = _task.hmm_task(cfg.data.hmm)
    model = model_from_config(cfg.model, data.heads)
    return problem_from_data(model, data), data


def solution_record(sol: Any, problem: PathsProblem) -> dict[str, Any]:
    """The result record of one solution: diagnostics, order parameters, predictor, alignment, head scores."""
    from . import alignment, gp_predict, head_scores, predict, pruning_table, test_error

    rec: dict[str, Any] = {
        "alpha": problem.alpha,
        "converged": sol.converged,
        "result": sol.result.value,
        "action": sol.action,
        "residual": sol.residual,
        "iterations": sol.iterations,
        "min_hessian_eigenvalue": sol.stats.get("min_hessian_eigenvalue"),
        "solver": sol.stats.get("solver"),
        "wall_time_s": sol.stats.get("wall_time_s"),
        "widths": list(problem.model.widths),
        "width_readout": problem.model.width_readout,
        "U_a": float(sol.value.U_a),
        "order_parameters": [np.asarray(u).tolist() for u in sol.value.U],
    }
    if not sol.converged:
        return rec
    if problem.xt_test is not None:
        pred, gp, y_eval, on = predict(sol.value, problem), gp_predict(problem), problem.y_test, "test"
    else:
        xt = problem.xt_train
        pred, gp, y_eval, on = predict(sol.value, problem, xt), gp_predict(problem, xt), problem.y_train, "train"
    rec["evaluated_on"] = on
    rec["predictor_mean"] = np.asarray(pred.mean)
    rec["predictor_variance"] = np.asarray(pred.variance)
    errs = test_error(pred, y_eval) if y_eval is not None else {}
    rec["test_error"] = errs.get("test_error")
    rec["accuracy"] = errs.get("accuracy")
    rec["bias2"] = errs.get("bias2")
    rec["mean_variance"] = errs.get("variance")
    if y_eval is not None:
        gp_errs = test_error(gp, y_eval)
        rec["gp_test_error"] = gp_errs["test_error"]
        rec["gp_accuracy"] = gp_errs["accuracy"]
    al = alignment(sol.value, problem)
    rec["alignment"] = {
        "renormalised": al["renormalised"]["scalar"],
        "gp": al["gp"]["scalar"],
        "overlaps_renormalised": al["renormalised"]["overlaps"],
        "overlaps_gp": al["gp"]["overlaps"],
    }
    rec["head_scores"] = [s.tolist() for s in head_scores(sol.value, problem.model.heads)]
    rec["pruning"] = pruning_table(sol.value, problem)
    return rec


def run_solve(cfg: PathsConfig) -> VerbOutput:
    """``paths solve``: the saddle point of one config."""
    from . import solve

    problem, _ = load_problem(cfg)
    s = cfg.solver
    sol = solve(problem, solver=s.method, max_steps=s.max_steps, tol=s.tol, throw=False,
                **({"learning_rate": s.learning_rate} if s.method == "adam" else {}),
                **({"damping": s.damping, "anderson": s.anderson} if s.method == "fixed_point" else {}))
    rec = solution_record(sol, problem)
    return VerbOutput(result=rec, ok=sol.converged, summary=_summary(rec),
                      message=f"paths solve: {sol.result.value} after {sol.iterations} iterations (residual {sol.residual:.3e})")


def sweep_records(cfg: PathsConfig, alphas: Sequence[float], init: Any = None) -> list[dict[str, Any]]:
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


def sweep_identity(cfg: PathsConfig) -> dict[str, Any]:
    """The resolved config minus the grid ([sweep]), [compute] and [validate]: what a resumed sweep must match."""
    import hashlib
    from pathlib import Path

    from ..config import to_toml_dict

    ident = {k: v for k, v in to_toml_dict(cfg).items() if k not in ("sweep", "compute", "validate")}
    if cfg.data.npz and Path(cfg.data.npz).is_file():
        ident["data_sha256"] = hashlib.sha256(Path(cfg.data.npz).read_bytes()).hexdigest()
    return ident


def run_sweep(cfg: PathsConfig, alphas: Sequence[float] | None = None, *, out: Any = None, resume: bool = False,
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


def run_gp(cfg: PathsConfig) -> VerbOutput:
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


def _summary(rec: dict[str, Any]) -> list[tuple[str, Any]]:
    keys = ("result", "residual", "iterations", "action", "min_hessian_eigenvalue", "alpha", "U_a", "test_error",
            "accuracy", "gp_test_error", "gp_accuracy")
    rows = [(k, rec[k]) for k in keys if k in rec and rec[k] is not None]
    if "alignment" in rec:
        rows.append(("alignment (renormalised / GP)", f"{rec['alignment']['renormalised']:.4f} / {rec['alignment']['gp']:.4f}"))
    if "head_scores" in rec:
        rows.append(("head scores", "; ".join(", ".join(f"{v:.3f}" for v in layer) for layer in rec["head_scores"])))
    return rows


def _parse_alphas(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        vals = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise InputError("--alphas", text, "must be a comma-separated list of numbers > 0") from None
    if not vals or any(not np.isfinite(v) or v <= 0 for v in vals):
        raise InputError("--alphas", text, "every alpha must be a finite number > 0")
    return vals


# ------------------------------------------------------------------------------------------
# commands


@app.command("solve")
def solve_cmd(config: ConfigArg, out: OutOpt = None, json: JsonOpt = False, force: ForceOpt = False,
              set_: SetOpt = None) -> None:
    """Solve the saddle-point equations: order parameters, predictor, alignment, head scores."""
    execute("paths", "solve", config, PathsConfig, run_solve, out=out, as_json=json, force=force, sets=set_)


@app.command("sweep")
def sweep_cmd(config: ConfigArg, alphas: Annotated[Optional[str], typer.Option("--alphas", help="Comma-separated α grid, e.g. 0.1,0.5,1,2.")] = None,
              out: OutOpt = None, json: JsonOpt = False, force: ForceOpt = False, resume: ResumeOpt = False,
              set_: SetOpt = None, scheduler: SchedulerOpt = None) -> None:
    """Solutions over a grid of α = P/N_max (widths rescaled, P fixed), warm-started along the grid.

    Runs on --scheduler serial | local[:N] | tcp://HOST:PORT; --resume computes only missing points."""
    try:
        grid = _parse_alphas(alphas)
    except InputError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    execute("paths", "sweep", config, PathsConfig,
            lambda cfg: run_sweep(cfg, grid, out=out, resume=resume, scheduler=scheduler), out=out, as_json=json,
            force=force, resume=resume, sets=set_)


@app.command("gp")
def gp_cmd(config: ConfigArg, out: OutOpt = None, json: JsonOpt = False, force: ForceOpt = False,
           set_: SetOpt = None) -> None:
    """The Gaussian-process limit (N → ∞ at fixed P): order parameters, predictor, test error."""
    execute("paths", "gp", config, PathsConfig, run_gp, out=out, as_json=json, force=force, sets=set_)


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name == module:
            return None
        raise


_validate = _optional("statmech_attn.paths._validate_cli")
if _validate is not None:
    from ._plots import solve_figures, sweep_figures

    _validate.PLOTTERS.setdefault("solve", solve_figures)
    _validate.PLOTTERS.setdefault("sweep", sweep_figures)
    _validate.register(app)
_optional("statmech_attn.paths._derive_cli")  # registers `statmech-attn derive paths`
