"""Compute and plot functions of ``statmech-attn potts replica|validate`` (theory/potts.md §7, §9).

The typer commands in :mod:`.cli` are thin wrappers around :func:`replica_compute` and
:func:`validate_compute`; :func:`replica_figures` and :func:`validate_figures` draw observables vs
α from a saved run directory (theory curve, simulation points with error bars, one panel per
observable).
"""

from __future__ import annotations

import math
import time
from typing import Any, Sequence

import numpy as np

from .._cli_common import VerbOutput, progress
from ..errors import InputError
from .config import PottsConfig, ReplicaConfig, require
from .replica import POINT_KEYS, ReplicaSetting, replica_curve

__all__ = ["setting_from_config", "replica_compute", "validate_compute", "replica_figures", "validate_figures",
           "parse_alphas"]

PLOT_OBSERVABLES = ("m", "q", "test_ce", "kl", "eps_w", "cosine", "train_loss")
LABELS = {"m": "$m$", "q": "$q$", "test_ce": "test cross-entropy", "kl": "KL to the teacher",
          "eps_w": r"$\epsilon_w = \|\hat w - w^*\|^2/\|w^*\|^2$", "cosine": "cosine to the teacher",
          "train_loss": "training loss", "cond_entropy": "conditional entropy"}
_CHUNK = 25  # α-points per compiled scan: a longer grid runs as equal chunks (one compilation)


def setting_from_config(rc: ReplicaConfig) -> ReplicaSetting:
    """The :class:`ReplicaSetting` of a [replica] table (Σ given, or from U by (9))."""
    kwargs = dict(teacher_norm=rc.teacher_norm, ridge=rc.ridge, cubature_order=rc.cubature_order,
                  cubature_order_teacher=rc.cubature_order_teacher)
    try:
        if rc.colour_covariance is not None:
            return ReplicaSetting(rc.colour_covariance, **kwargs)
        return ReplicaSetting.from_colour_matrix(rc.colour_matrix, **kwargs)
    except InputError as e:
        raise e.prefixed("replica") from None


def parse_alphas(values: Sequence[str] | None) -> list[float] | None:
    """``--alphas 0.5,1,2`` (or repeated) -> the α values (None when not given)."""
    if not values:
        return None
    items = [v.strip() for text in values for v in text.split(",") if v.strip()]
    try:
        nums = [float(v) for v in items]
    except ValueError:
        raise InputError("--alphas", ",".join(items), "must be numbers separated by commas") from None
    if not nums or not all(math.isfinite(a) and a > 0 for a in nums):
        raise InputError("--alphas", ",".join(items), "every α must be a finite number > 0")
    return nums


def curve(setting: ReplicaSetting, rc: ReplicaConfig, alphas: np.ndarray, *, cubature_check: bool = True,
          description: str = "replica α-curve") -> list[dict[str, Any]]:
    """The α-curve in chunks of equal length (continuation carried across chunks)."""
    order = np.argsort(alphas, kind="stable")
    a_sorted = alphas[order]
    n_chunks = max(1, math.ceil(len(a_sorted) / _CHUNK))
    size = math.ceil(len(a_sorted) / n_chunks)
    records: list[dict[str, Any]] = []
    init = None
    for c in progress(range(n_chunks), total=n_chunks, description=description):
        chunk = a_sorted[c * size:(c + 1) * size]
        padded = np.concatenate([chunk, np.full(size - len(chunk), chunk[-1])])  # same length: no recompile
        recs = replica_curve(setting, padded, init, solver=rc.solver, max_steps=rc.max_steps, tol=rc.tol,
                             damping=rc.damping, cubature_check=cubature_check)[:len(chunk)]
        records.extend(recs)
        good = [r for r in recs if r["converged"]]
        if good:
            init = (good[-1]["m"], good[-1]["q"], good[-1]["V"])
    out: list[dict[str, Any]] = [{} for _ in alphas]
    for j, i in enumerate(order):
        out[i] = records[j]
    return out


def replica_task(context: tuple[ReplicaSetting, ReplicaConfig, int], points: Sequence[dict[str, Any]],
                 seed: int) -> list[Any]:
    """Grid task of ``potts replica`` (statmech_attn.compute): one continuation over a chunk of neighbouring α."""
    from ..compute import PointOutput

    setting, rc, chunk = context
    a = [float(p["alpha"]) for p in points]
    padded = a + [max(a)] * max(0, chunk - len(a))  # one compiled shape for every task
    recs = replica_curve(setting, padded, None, solver=rc.solver, max_steps=rc.max_steps, tol=rc.tol,
                         damping=rc.damping, cubature_check=True)[:len(a)]
    return [PointOutput(r, ok=bool(r["converged"])) for r in recs]


def replica_identity(cfg: PottsConfig) -> dict[str, Any]:
    """The [replica] table minus its α grid: what a resumed ``potts replica`` grid must match."""
    from ..config import to_toml_dict

    grid_keys = ("alphas", "alpha_min", "alpha_max", "n_alphas")
    table = to_toml_dict(cfg).get("replica", {})
    return {"replica": {k: v for k, v in table.items() if k not in grid_keys}}


def replica_compute(cfg: PottsConfig, alphas: Sequence[float] | None = None, *, out: Any = None,
                    resume: bool = False, scheduler: str | None = None) -> VerbOutput:
    """``potts replica``: the RS saddle point and observables at every α of [replica] (§7), or at
    ``alphas`` (the ``--alphas`` option, recorded in the result as ``alphas_override``).

    The α grid runs through :mod:`statmech_attn.compute` (``--scheduler``, ``--resume``): chunks of
    ``[compute] chunk`` neighbouring α per task (continuation inside a chunk), one file per point."""
    from ..compute import Grid, resolve_scheduler, run_grid

    rc = require(cfg.replica, "replica", "replica")
    setting = setting_from_config(rc)
    override = alphas is not None
    alphas = np.asarray(alphas, dtype=np.float64) if override else rc.alpha_grid
    t0 = time.perf_counter()
    try:
        grid = Grid.of(along="alpha", chunk=cfg.compute.chunk, alpha=np.asarray(alphas, dtype=np.float64).tolist())
    except InputError as e:
        raise InputError("replica.alphas", e.value, e.allowed) from None
    res = run_grid(replica_task, (setting, rc, cfg.compute.chunk), grid, out=out, resume=resume,
                   identity=replica_identity(cfg), scheduler=resolve_scheduler(cfg.compute, scheduler),
                   seed=cfg.seed, description="replica α-curve")
    recs = [dict(p.record) for p in res.points]
    wall = time.perf_counter() - t0
    points = [{k: r[k] for k in POINT_KEYS} for r in recs]
    rx, rz = setting.rules()
    n_bad = sum(not p["converged"] for p in points)
    result: dict[str, Any] = {
        "colour_covariance": setting.colour_covariance,
        "teacher_norm": setting.teacher_norm,
        "ridge": setting.ridge,
        "points": points,
        "solver": rc.solver,
        "converged_all": n_bad == 0,
        "cubature": {"kind": rx.kind, "order": rx.order, "order_teacher": setting.teacher_order, "rank": setting.rank,
                     "nodes": rx.size, "teacher_nodes": rz.size,
                     "order_check": math.ceil(1.5 * rx.order),
                     "relative_change_1p5n": [r.get("cubature_change", float("nan")) for r in recs]},
        "wall_time_s": wall,
    }
    if override:
        result["alphas_override"] = [float(a) for a in alphas]
    summary: list[tuple[str, Any]] = [("α points", len(points)), ("converged", len(points) - n_bad),
                                      ("max residual", max(p["residual"] for p in points)),
                                      ("max cubature change (n vs 1.5n)",
                                       max(result["cubature"]["relative_change_1p5n"])),
                                      ("wall time (s)", wall)]
    for p in points[:12]:
        summary.append((f"α = {p['alpha']:.4g}", f"m={p['m']:.6g} q={p['q']:.6g} V={p['V']:.6g} "
                                                 f"test_ce={p['test_ce']:.6g} kl={p['kl']:.4g} cos={p['cosine']:.4g}"))
    return VerbOutput(result=result, ok=n_bad == 0, summary=summary,
                      message=f"potts replica: {n_bad} of {len(points)} α points did not converge (see 'converged')")


GTOL = 1e-8  # gradient norm (units of (10)) below which a finite-size fit counts as the minimiser


def validate_task(context: tuple[Any, Any, Any], points: Sequence[dict[str, Any]], seed: int) -> list[Any]:
    """Grid task of ``potts validate`` (statmech_attn.compute): one finite-size fit per (N, α, seed) point.

    ``target = "replica"``: ERM (10) (:func:`statmech_attn.validation.potts.replica_erm.erm_point`);
    ``"train"``: the factored layer trained by MLM (:func:`statmech_attn.validation.potts.replica_mlm.mlm_point`).
    A point whose fit stops above the gradient tolerance is recorded with ``ok = False``.
    """
    from ..compute import PointOutput

    problem, vc, sampler = context
    outs = []
    for p in points:
        N, alpha, sd = int(p["size"]), float(p["alpha"]), int(p["seed"])
        if vc.target == "replica":
            from statmech_attn.validation.potts.replica_erm import erm_point

            rec = erm_point(problem, alpha, N, sd, mode=vc.mode, n_test=vc.n_test, gtol=GTOL)
        else:
            from statmech_attn.validation.potts.replica_mlm import mlm_point

            rec = mlm_point(problem, alpha, N, sd, contexts=vc.contexts, n_test=vc.n_test, sampler=sampler, gtol=GTOL)
        outs.append(PointOutput(rec, ok=bool(rec["grad_norm"] <= GTOL)))
    return outs


def validate_identity(cfg: PottsConfig) -> dict[str, Any]:
    """What a resumed ``potts validate`` grid must match: [replica] minus its α grid, [validate] minus
    sizes and seeds, and [sampler] when the layer is trained on Gibbs samples."""
    from ..config import to_toml_dict

    table = to_toml_dict(cfg)
    ident = replica_identity(cfg)
    ident["validate"] = {k: v for k, v in table.get("validate", {}).items() if k not in ("sizes", "seeds")}
    if cfg.validate.target == "train" and cfg.validate.contexts == "potts":
        ident["sampler"] = table.get("sampler", {})
    return ident


def validate_compute(cfg: PottsConfig, *, out: Any = None, resume: bool = False,
                     scheduler: str | None = None) -> VerbOutput:
    """``potts validate``: the replica theory (§7) against finite-size simulations (§7.9).

    Every (N, α, seed) is one task of :mod:`statmech_attn.compute` (``--scheduler``, ``--resume``;
    one file per point); per (N, α) the mean ± standard error over seeds of m, q, test_ce, kl, eps_w
    is compared with the theory (z-scores), ``passed`` when every |z| < 3 at the largest N.
    ``target = "replica"``: ERM (10); ``"train"``: the factored layer trained by MLM on Potts data
    through the map of §7.1 (:mod:`statmech_attn.validation.potts.replica_mlm`)."""
    from statmech_attn.validation.potts.replica_erm import COMPARED, SIM_KEYS, ERMProblem, compare, summarise

    from ..compute import Grid, resolve_scheduler, run_grid

    vc = cfg.validate
    rc = require(cfg.replica, "replica", "validate")
    setting = setting_from_config(rc)
    alphas = rc.alpha_grid
    problem = ERMProblem.from_setting(setting, rc.colour_matrix)
    needs_U = vc.target == "train" or vc.mode == "discrete"
    if needs_U and problem.colour_matrix is None:
        what = "target = 'train'" if vc.target == "train" else "mode = 'discrete'"
        raise InputError("replica.colour_covariance", "Σ with Σ1 ≠ 0",
                         f"{what} needs the colour matrix U: give replica.colour_matrix (or a Σ with Σ1 = 0)")
    if min(vc.sizes) < 2:
        raise InputError("validate.sizes", list(vc.sizes), "every size N must be >= 2")
    t0 = time.perf_counter()
    try:
        grid = Grid.of(size=[int(n) for n in vc.sizes], alpha=[float(a) for a in alphas], seed=[int(s) for s in vc.seeds])
    except InputError as e:
        raise InputError(f"validate.{e.param}" if e.param in ("size", "seed") else "replica.alphas", e.value,
                         e.allowed) from None
    sampler = cfg.sampler if (vc.target == "train" and vc.contexts == "potts") else None
    res = run_grid(validate_task, (problem, vc, sampler), grid, out=out, resume=resume,
                   identity=validate_identity(cfg), scheduler=resolve_scheduler(cfg.compute, scheduler),
                   seed=cfg.seed, description="finite-size fits")
    theory = curve(setting, rc, alphas, cubature_check=False)
    dense = np.geomspace(min(alphas) / 1.5, max(alphas) * 1.5, 40)
    theory_curve = [{k: r[k] for k in POINT_KEYS} for r in curve(setting, rc, dense, cubature_check=False,
                                                                   description="theory curve")]
    failed = [{"point": dict(p.point), "error": p.error, "grad_norm": p.record.get("grad_norm")}
              for p in res.points if not p.ok]
    sims = []
    for N in vc.sizes:
        for a in alphas:
            pts = [p for p in res.points if p.ok and p.point["size"] == int(N) and p.point["alpha"] == float(a)]
            if pts:
                keys = SIM_KEYS + ("grad_norm", "newton_steps" if vc.target == "replica" else "lbfgs_steps")
                sims.append(summarise(int(N), float(a), {k: [p.record[k] for p in pts] for k in keys}))
    report = compare(theory, sims, observables=COMPARED)
    wall = time.perf_counter() - t0
    theory_ok = all(r["converged"] for r in theory)
    passed = report["passed"] and theory_ok and not failed
    result: dict[str, Any] = {
        "target": vc.target, "mode": vc.mode, "sizes": list(vc.sizes), "seeds": list(vc.seeds),
        "alphas": [float(a) for a in alphas], "n_test": vc.n_test,
        "theory": [{k: r[k] for k in POINT_KEYS} for r in theory],
        "theory_curve": theory_curve,
        "points": report["points"], "agreement": report["agreement"], "gap_exponent": report["gap_exponent"],
        "failed_points": failed,
        "grid": {"points": len(res.points), "computed": res.computed, "tasks_run": res.tasks_run,
                 "scheduler": res.scheduler},
        "passed": passed, "wall_time_s": wall,
    }
    if vc.target == "train":
        result["contexts"] = vc.contexts
        result["layer"] = {"layer": "factored", "attention": "linear", "heads": 1, "value": "U (fixed)",
                           "mask": "all", "weight_decay_attention": "λN/(ML) per (N, α)", "optimizer": "L-BFGS",
                           "gtol": GTOL}
    what = "finite-size ERM" if vc.target == "replica" else f"the MLM-trained layer ({vc.contexts} contexts)"
    summary: list[tuple[str, Any]] = [(f"passed (all |z| < 3 at N = {max(vc.sizes)})", passed),
                                      ("simulation", what), ("points computed / in grid", f"{res.computed} / {len(res.points)}")]
    for p in report["points"]:
        summary.append((f"N = {p['size']}, α = {p['alpha']:.4g}",
                        "  ".join(f"{k}: z={v:+.2f}" for k, v in p["z"].items())))
    if not theory_ok:
        message = "potts validate: the replica theory did not converge"
    elif failed:
        message = f"potts validate: {len(failed)} finite-size fits did not reach the gradient tolerance {GTOL:g}"
    else:
        message = f"potts validate: theory and {what} differ by ≥ 3 standard errors at the largest size"
    return VerbOutput(result=result, ok=passed, summary=summary, message=message)


# ------------------------------------------------------------------------------------------------
# figures


def _grid(n: int) -> tuple[Any, np.ndarray]:
    import matplotlib.pyplot as plt

    cols = min(4, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_axis_off()
    return fig, axes.ravel()


def _log_alpha_axis(ax: Any) -> None:
    """Log α axis labelled in plain numbers: decades, plus 2 and 5 times them on ranges under 1.5 decades."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_formatter(plain)
    lo, hi = ax.get_xlim()
    if hi / lo < 10 ** 1.5:
        ax.xaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
        ax.xaxis.set_minor_formatter(plain)
    else:
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(r"$\alpha = M/N$")


def _theory_lines(ax: Any, points: Sequence[dict[str, Any]], key: str, **kw: Any) -> None:
    pts = sorted(points, key=lambda p: p["alpha"])
    a = np.array([p["alpha"] for p in pts])
    v = np.array([p[key] if p.get("converged", True) else np.nan for p in pts], dtype=float)
    ax.plot(a, v, "-", **kw)


def replica_figures(record: dict[str, Any], arrays: dict[str, Any]) -> list[tuple[Any, str]]:
    """Observables of a ``potts replica`` run vs α (one panel per observable, log α axis)."""
    res = record["result"]
    points = res["points"]
    fig, axes = _grid(len(PLOT_OBSERVABLES))
    for ax, key in zip(axes, PLOT_OBSERVABLES):
        _theory_lines(ax, points, key, color="C0", lw=1.5, label="replica theory")
        bad = [p for p in points if not p["converged"]]
        if bad:
            ax.plot([p["alpha"] for p in bad], [p[key] for p in bad], "x", color="C3", label="not converged")
        _log_alpha_axis(ax)
        ax.set_title(LABELS[key], fontsize=10)
        if key == "test_ce" and points:
            ax.axhline(points[0]["cond_entropy"], color="0.5", ls=":", lw=1, label="conditional entropy")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"replica theory: ρ = {res['teacher_norm']:g}, λ = {res['ridge']:g}", fontsize=11)
    fig.tight_layout()
    return [(fig, "replica")]


def validate_figures(record: dict[str, Any], arrays: dict[str, Any]) -> list[tuple[Any, str]]:
    """Theory curve and finite-size means ± standard errors (ERM or the MLM-trained layer) vs α, one panel
    per compared observable."""
    res = record["result"]
    keys = ("m", "q", "test_ce", "kl", "eps_w")
    fig, axes = _grid(len(keys))
    sizes = sorted({p["size"] for p in res["points"]})
    train = res.get("target") == "train"
    sim = "MLM layer" if train else "ERM"
    for ax, key in zip(axes, keys):
        _theory_lines(ax, res.get("theory_curve") or res["theory"], key, color="k", lw=1.3, label="replica theory")
        for i, N in enumerate(sizes):
            pts = sorted((p for p in res["points"] if p["size"] == N), key=lambda p: p["alpha"])
            shift = 1 + 0.03 * (i - (len(sizes) - 1) / 2)  # small horizontal offset per size
            ax.errorbar([p["alpha"] * shift for p in pts], [p["mean"][key] for p in pts],
                        yerr=[p["se"][key] for p in pts], fmt="o", ms=4, capsize=2, color=f"C{i}",
                        label=f"{sim} N = {N}")
        _log_alpha_axis(ax)
        ax.set_title(LABELS[key], fontsize=10)
    axes[0].legend(fontsize=7)
    status = "passed" if res["passed"] else "NOT passed"
    contexts = res.get("contexts", "") if train else res["mode"]
    fig.suptitle(f"replica theory vs {sim} ({contexts} contexts, {len(res['seeds'])} seeds): {status}", fontsize=11)
    fig.tight_layout()
    return [(fig, "validate")]
