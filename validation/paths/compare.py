"""Theory vs simulation for the attention-path network: pass/fail per statistic, N-scaling.

For every α of the ``[validate]`` table and every width N of its ladder (all widths N₁ = … = N_a
= N, P = α N training examples): the saddle point of theory §5–6 (``statmech_attn.paths.solve``)
and its predictor (§7) against NUTS samples of the finite network (:mod:`statmech_attn.validation.paths.sample`),
optionally gradient descent and Langevin dynamics (:mod:`statmech_attn.validation.paths.train`).

Compared statistics (theory §4, §7, §10): ``U1``…``UL`` (weight overlaps), ``U_a``, ``f_mean``
(⟨f*⟩ on test inputs), ``f_var`` (⟨δf*²⟩), ``test_error`` (ε_g = bias² + variance).  A statistic
passes when every entry obeys

    |simulation − theory| ≤ k · SE + c · scale / N,

with k = ``tolerance_sigmas``, SE the Monte-Carlo standard error (sd/√ESS), c =
``finite_size_allowance`` (``finite_size_allowance_variance`` for ``f_var``: the O(1/N)
corrections the saddle point neglects) and scale the RMS of the theory values of that statistic.  A point whose compared statistics have split R-hat >
``rhat_max`` or ESS < ``ess_min`` is flagged ``mixed: false`` and not used.

Every (α, N, seed) point is one task of the grid layer (:func:`statmech_attn.compute.run_grid`):
serial or on dask workers, one file per point (``DIR/points/*.json``), resumable; the report is
assembled from those files.  The GP-limit check is a second one-point grid (``DIR/gp_limit/``).
The random seeds of a point are a hash of (config seed, seed coordinate, α, N) (:func:`point_seed`),
so extending a grid does not change the points already computed.

Discrepancy of a statistic at width N: D = RMS(simulation − theory)/scale, and the noise-corrected
D_c = √max(0, mean[(simulation − theory)² − SE²])/scale.  N-scaling: least-squares fits of
D_c = c₀ + c₁/N and of ln D_c against ln N (slope −1 expected).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from statmech_attn.errors import InputError

from . import sample as smp
from statmech_attn.paths.spec import ValidateConfig

__all__ = [
    "even_examples",
    "paths_model",
    "theory_point",
    "compare_statistic",
    "validate_point",
    "n_scaling",
    "gp_limit_check",
    "gp_verdict",
    "theory_curve",
    "point_seed",
    "ValidateContext",
    "validate_task",
    "gp_task",
    "validate",
]

STAT_ORDER = ("U", "U_a", "f_mean", "f_var", "test_error")
#: [validate] keys that are grid axes (may change on --resume) or used only when assembling the report
GRID_KEYS = ("widths", "alphas", "seeds", "theory_curve_points", "require_shrinking")


def even_examples(alpha: float, width: int) -> int:
    """P = α N rounded to an even number ≥ 2 (equal class sizes)."""
    return max(2, 2 * int(round(alpha * width / 2)))


def paths_model(base: Any, width: int) -> Any:
    """The model of ``base`` (a PathsModel) with every width N₁ = … = N_L = N_a = N."""
    return dataclasses.replace(base, widths=(float(width),) * len(base.heads), width_readout=float(width))


def sample_data(data: Any) -> smp.SampleData:
    """The arrays of a ``PathsData`` as the samplers take them."""
    import jax.numpy as jnp

    return smp.SampleData(jnp.asarray(data.x), tuple(jnp.asarray(a) for a in data.attention), jnp.asarray(data.y),
                          None if data.x_test is None else jnp.asarray(data.x_test),
                          None if data.attention_test is None else tuple(jnp.asarray(a) for a in data.attention_test))


def theory_point(model: Any, data: Any) -> dict[str, Any]:
    """Saddle point (Newton), predictor and test error of theory §5–7, and the GP-limit predictor."""
    from statmech_attn import paths

    problem = paths.problem_from_data(model, data)
    sol = paths.solve(problem, throw=False)
    out: dict[str, Any] = {"converged": sol.converged, "result": sol.result.value, "residual": float(sol.residual),
                           "iterations": int(sol.iterations), "action": float(sol.action),
                           "U_a": float(sol.value.U_a)}
    for l, u in enumerate(sol.value.U):
        out[f"U{l + 1}"] = np.asarray(u)
    pred = paths.predict(sol.value, problem)
    gp = paths.gp_predict(problem)
    out["f_mean"], out["f_var"] = np.asarray(pred.mean), np.asarray(pred.variance)
    out["gp_f_mean"], out["gp_f_var"] = np.asarray(gp.mean), np.asarray(gp.variance)
    if data.y_test is not None:
        err, gerr = paths.test_error(pred, data.y_test), paths.test_error(gp, data.y_test)
        out["test_error"], out["accuracy"] = err["test_error"], err["accuracy"]
        out["gp_test_error"], out["gp_accuracy"] = gerr["test_error"], gerr["accuracy"]
    return out


def _rms(a: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(a))))


def compare_statistic(theory: np.ndarray | float, est: smp.Estimate, *, width: int, tolerance_sigmas: float,
                      allowance: float) -> dict[str, Any]:
    """Pass/fail of one statistic: every entry within k·SE + c·scale/N of the theory (see module doc)."""
    th = np.asarray(theory, dtype=np.float64)
    sim, se = np.asarray(est.mean), np.asarray(est.se)
    scale = max(_rms(th), 1e-12)
    allow = allowance * scale / width
    diff = sim - th
    passed = bool(np.all(np.abs(diff) <= tolerance_sigmas * se + allow))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, np.abs(diff) / se, np.inf)
    return {
        "theory": th, "simulation": sim, "se": se, "ess": np.asarray(est.ess), "rhat": np.asarray(est.rhat),
        "max_abs_diff": float(np.max(np.abs(diff))), "max_z": float(np.max(z)) if np.all(np.isfinite(z)) else 1e300,
        "scale": scale, "allowance": allow, "tolerance_sigmas": tolerance_sigmas, "passed": passed,
        "discrepancy": _rms(diff) / scale,
        "discrepancy_corrected": math.sqrt(max(0.0, float(np.mean(diff ** 2 - se ** 2)))) / scale,
    }


def _estimates(draws: Mapping[str, np.ndarray], y_test: np.ndarray | None) -> dict[str, smp.Estimate]:
    est = dict(smp.summarise(draws))
    if "f_mean" in draws:
        est.update(smp.predictor_estimates(draws, y_test))
    return est


def _compare_all(theory: Mapping[str, Any], est: Mapping[str, smp.Estimate], width: int, vcfg: ValidateConfig) -> dict[str, Any]:
    return {k: compare_statistic(theory[k], est[k], width=width, tolerance_sigmas=vcfg.tolerance_sigmas,
                                 allowance=(vcfg.finite_size_allowance_variance if k == "f_var" else vcfg.finite_size_allowance))
            for k in est if k in theory}


def _settings(vcfg: ValidateConfig) -> smp.SamplerSettings:
    return smp.SamplerSettings(num_chains=vcfg.num_chains, num_warmup=vcfg.num_warmup, num_samples=vcfg.num_samples,
                               chain_method=vcfg.chain_method, target_accept=vcfg.target_accept,
                               max_tree_depth=vcfg.max_tree_depth, block_size=min(vcfg.num_samples, 100),
                               sampler=vcfg.sampler)


def validate_point(model: Any, data: Any, vcfg: ValidateConfig, seed: int, *, alpha: float, width: int,
                   draws_out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Theory, NUTS (and GD / Langevin when enabled) at one (α, N); every comparison with its error bar.

    ``draws_out``: a dict that receives the NUTS draws of the statistics ({name: (chain, draw, ...)})."""
    from .train import run_langevin, train_gd

    t0 = time.perf_counter()
    theory = theory_point(model, data)
    t_theory = time.perf_counter() - t0
    sdata = sample_data(data)
    y_test = None if data.y_test is None else np.asarray(data.y_test)
    run = smp.run_nuts(model, sdata, _settings(vcfg), seed, description=f"NUTS α={alpha:g} N={width}")
    est = _estimates(run["draws"], y_test)
    if draws_out is not None:
        draws_out.update({k: np.asarray(v) for k, v in run["draws"].items()})
    comparisons = _compare_all(theory, est, width, vcfg)
    mix = smp.mixing(est, list(comparisons), vcfg.rhat_max, vcfg.ess_min)
    point: dict[str, Any] = {
        "alpha": alpha, "width": width, "n_train": int(data.y.shape[0]),
        "n_test": 0 if data.x_test is None else int(data.x_test.shape[0]),
        "theory": theory, "theory_seconds": t_theory,
        "nuts": {k: run[k] for k in ("divergences", "accept_prob", "mean_tree_steps", "step_size", "seconds")},
        "mixing": mix, "comparisons": comparisons,
        "used": mix["mixed"] and theory["converged"],
        "passed": bool(mix["mixed"] and theory["converged"] and all(c["passed"] for c in comparisons.values())),
    }
    if vcfg.gd.enabled:
        gd = train_gd(model, sdata, learning_rate=vcfg.gd.learning_rate, steps=vcfg.gd.steps,
                      num_inits=vcfg.gd.num_inits, seed=seed + 1)
        gest = {k: smp.estimate_independent(v[0]) for k, v in gd["draws"].items() if k != "f_var"}
        gd_theory = {k: theory[k] for k in gest if k in theory}
        point["gd"] = {
            "loss": gd["loss"], "grad_norm": gd["grad_norm"], "seconds": gd["seconds"],
            "statistics": {k: {"mean": e.mean, "se": e.se, "theory": gd_theory.get(k)} for k, e in gest.items()},
        }
        if y_test is not None:
            m = gd["draws"]["f_mean"][0]
            point["gd"]["test_error"] = float(np.mean((y_test[None] - m) ** 2))
            point["gd"]["accuracy"] = float(np.mean(np.sign(m) == np.sign(y_test[None])))
    if vcfg.langevin.enabled and width <= vcfg.langevin.max_width:
        lc = vcfg.langevin
        lg = run_langevin(model, sdata, step_size=lc.step_size, num_steps=lc.num_steps, burn_in=lc.burn_in, thin=lc.thin,
                          num_chains=lc.num_chains, seed=seed + 2)
        lest = _estimates(lg["draws"], y_test)
        lcomp = _compare_all(theory, lest, width, vcfg)
        point["langevin"] = {
            "seconds": lg["seconds"], "eta": lg["eta"], "step_size": lc.step_size, "num_steps": lc.num_steps,
            "burn_in": lc.burn_in, "thin": lc.thin, "num_chains": lc.num_chains,
            "draws_per_chain": (lc.num_steps - lc.burn_in) // lc.thin,
            "comparisons": lcomp, "mixing": smp.mixing(lest, list(lcomp), vcfg.rhat_max, vcfg.ess_min),
            "vs_nuts": langevin_vs_nuts(lest, est, vcfg.tolerance_sigmas),
        }
    return point


def langevin_vs_nuts(lang: Mapping[str, smp.Estimate], nuts: Mapping[str, smp.Estimate],
                     tolerance_sigmas: float) -> dict[str, Any]:
    """Langevin against NUTS (the same posterior): max_entries |m_L − m_N| / √(SE_L² + SE_N²) per
    statistic, and whether every one is ≤ ``tolerance_sigmas``."""
    out: dict[str, Any] = {}
    for k in lang:
        if k in nuts:
            with np.errstate(divide="ignore", invalid="ignore"):
                z = float(np.max(np.abs(lang[k].mean - nuts[k].mean) / np.hypot(lang[k].se, nuts[k].se)))
            out[k] = z if math.isfinite(z) else 1e300
    return {"max_z": out, "tolerance_sigmas": tolerance_sigmas,
            "agree": bool(all(z <= tolerance_sigmas for z in out.values()))}


def _fit(widths: np.ndarray, d: np.ndarray) -> dict[str, Any]:
    inv = 1.0 / widths
    A = np.stack([np.ones_like(inv), inv], axis=1)
    (c0, c1), *_ = np.linalg.lstsq(A, d, rcond=None)
    pos = d > 0
    slope = float(np.polyfit(np.log(widths[pos]), np.log(d[pos]), 1)[0]) if pos.sum() >= 2 else None
    return {"c0": float(c0), "c1": float(c1), "loglog_slope": slope}


def n_scaling(points: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Discrepancy vs 1/N over the mixed points of one α: per statistic and overall (RMS over statistics).

    ``shrinks``: the overall noise-corrected discrepancy at the largest N is smaller than at the
    smallest.
    """
    used = sorted([p for p in points if p["used"]], key=lambda p: p["width"])
    out: dict[str, Any] = {"widths": [p["width"] for p in used], "statistics": {}}
    if len(used) < 2:
        out["shrinks"] = None
        out["note"] = "fewer than two mixed widths: no N-scaling"
        return out
    widths = np.asarray(out["widths"], dtype=np.float64)
    names = list(used[0]["comparisons"])
    for k in names:
        d = np.asarray([p["comparisons"][k]["discrepancy"] for p in used])
        dc = np.asarray([p["comparisons"][k]["discrepancy_corrected"] for p in used])
        out["statistics"][k] = {"discrepancy": d, "discrepancy_corrected": dc, "fit": _fit(widths, dc)}
    total = np.sqrt(np.mean([out["statistics"][k]["discrepancy_corrected"] ** 2 for k in names], axis=0))
    raw = np.sqrt(np.mean([out["statistics"][k]["discrepancy"] ** 2 for k in names], axis=0))
    out["overall"] = {"discrepancy": raw, "discrepancy_corrected": total, "fit": _fit(widths, total)}
    out["shrinks"] = bool(total[-1] < total[0])
    return out


def gp_limit_check(base_model: Any, make_data: Callable[[int, int], Any], vcfg: ValidateConfig, seed: int) -> dict[str, Any]:
    """GP limit (theory §8, §11.5): at N = ``gp_width`` ≫ P = ``gp_n_train`` the sampled predictor
    (and overlaps) must match the GP values within ``tolerance_sigmas`` SE, with no extra allowance.

    The check is only meaningful where the width is large enough that the finite-α theory itself is
    indistinguishable from the GP at the Monte-Carlo resolution: the saddle point (solved at this N)
    differs from the GP by O(α), and that gap, in units of the sampled SE, must be at most
    ``gp_max_theory_gap`` (``resolved``); otherwise the check fails and says to raise ``gp_width``.
    The default sampler ``wishart`` (:func:`statmech_attn.validation.paths.sample.overlap_chain`) samples the
    exact finite-N posterior at a cost independent of N, so N can be 10⁵–10⁶.

    Returned: ``comparisons`` (sampled vs GP, the verdict), ``theory_gap_sigmas`` (max |saddle point −
    GP|/SE per statistic), ``sampled_vs_theory`` (max |sampled − saddle point|/SE, for information),
    ``mixing``, ``passed``.
    """
    from statmech_attn import paths

    width, P = vcfg.gp_width, vcfg.gp_n_train
    model = dataclasses.replace(paths_model(base_model, width), temperature=vcfg.gp_temperature)
    data = make_data(P, vcfg.n_test)
    theory = theory_point(model, data)
    gp = paths.gp_order_parameters(model)
    gp_values: dict[str, Any] = {"f_mean": theory["gp_f_mean"], "f_var": theory["gp_f_var"], "U_a": float(gp.U_a)}
    gp_values.update({f"U{l + 1}": np.asarray(u) for l, u in enumerate(gp.U)})
    settings = dataclasses.replace(_settings(vcfg), sampler=vcfg.gp_sampler)
    run = smp.run_nuts(model, sample_data(data), settings, seed, description=f"NUTS GP check N={width}")
    y_test = None if data.y_test is None else np.asarray(data.y_test)
    est = {k: v for k, v in _estimates(run["draws"], y_test).items() if k in gp_values}
    verdict = gp_verdict(theory, gp_values, est, vcfg, width)
    return {"width": width, "n_train": P, "alpha": P / width, "temperature": vcfg.gp_temperature,
            "sampler": vcfg.gp_sampler, **verdict,
            "nuts": {k: run[k] for k in ("divergences", "accept_prob", "mean_tree_steps", "step_size", "seconds")}}


def gp_verdict(theory: Mapping[str, Any], gp_values: Mapping[str, Any], est: Mapping[str, smp.Estimate],
               vcfg: ValidateConfig, width: int) -> dict[str, Any]:
    """The GP-limit verdict from the saddle point, the GP values and the sampled estimates.

    ``comparisons``: sampled vs GP, |sim − GP| ≤ k·SE entrywise (no allowance);
    ``theory_gap_sigmas``: max_entries |saddle point − GP|/SE per statistic; ``resolved``: every gap
    ≤ ``gp_max_theory_gap`` (and the saddle point converged); ``passed``: mixed, resolved and
    every comparison passed.
    """
    comps = {k: compare_statistic(gp_values[k], e, width=width, tolerance_sigmas=vcfg.tolerance_sigmas, allowance=0.0)
             for k, e in est.items()}

    def max_sigmas(a: Any, b: Any, se: np.ndarray) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            v = float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / se))
        return v if math.isfinite(v) else 1e300

    gap = {k: max_sigmas(theory[k], gp_values[k], e.se) for k, e in est.items()}
    vs_theory = {k: max_sigmas(e.mean, theory[k], e.se) for k, e in est.items()}
    mix = smp.mixing(est, list(est), vcfg.rhat_max, vcfg.ess_min)
    resolved = bool(theory["converged"] and max(gap.values()) <= vcfg.gp_max_theory_gap)
    note = ("" if resolved else
            f"N = {width} is not in the GP limit at this resolution: the finite-alpha saddle point differs from the GP "
            f"by {max(gap.values()):.3g} SE (allowed {vcfg.gp_max_theory_gap:g}); raise validate.gp_width")
    return {"tolerance_sigmas": vcfg.tolerance_sigmas, "allowance": 0.0, "mixing": mix, "comparisons": comps,
            "theory_gap_sigmas": gap, "max_theory_gap": vcfg.gp_max_theory_gap, "resolved": resolved,
            "sampled_vs_theory_sigmas": vs_theory, "theory_converged": bool(theory["converged"]),
            "passed": bool(mix["mixed"] and resolved and all(c["passed"] for c in comps.values())), "note": note}


def theory_curve(base_model: Any, make_data: Callable[[int, int], Any], alphas: Sequence[float], width: int,
                 n_points: int, n_test: int) -> dict[str, Any]:
    """Theory (and GP) test error vs α at width N, P = α N, on a log grid spanning the validated α."""
    grid = np.geomspace(min(alphas) / 2, max(alphas) * 2, n_points)
    model = paths_model(base_model, width)
    te, gte, used = [], [], []
    for a in grid:
        t = theory_point(model, make_data(even_examples(float(a), width), n_test))
        if t["converged"] and "test_error" in t:
            used.append(even_examples(float(a), width) / width)
            te.append(t["test_error"])
            gte.append(t["gp_test_error"])
    return {"width": width, "alpha": np.asarray(used), "test_error": np.asarray(te), "gp_test_error": np.asarray(gte)}


def point_seed(base_seed: int, seed: int, alpha: float, width: int) -> int:
    """Seed of one grid point: a hash of (config seed, seed coordinate, α, N), in [0, 2³¹).

    Independent of the point's position in the grid, so a grid extended on ``--resume`` computes
    its new points with the seeds a fresh run would use and leaves the old ones valid."""
    text = json.dumps([int(base_seed), int(seed), float(alpha), int(width)])
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % (2 ** 31)


@dataclasses.dataclass(frozen=True)
class ValidateContext:
    """What every validation task needs (sent once to each dask worker): the base model (a
    PathsModel; widths are set per point), ``make_data(P, n_test)`` (picklable), the effective
    [validate] settings and the config seed."""

    base_model: Any
    make_data: Callable[[int, int], Any]
    vcfg: ValidateConfig
    seed: int


def validate_task(ctx: ValidateContext, points: Sequence[Mapping[str, Any]], seed: int) -> list[Any]:
    """Grid task: :func:`validate_point` at each (α, N, seed) point; the record JSON-ready."""
    from statmech_attn.compute import PointOutput
    from statmech_attn.io import to_jsonable

    out = []
    for p in points:
        alpha, width = float(p["alpha"]), int(p["width"])
        data = ctx.make_data(even_examples(alpha, width), ctx.vcfg.n_test)
        draws: dict[str, Any] = {}
        rec = validate_point(paths_model(ctx.base_model, width), data, ctx.vcfg,
                             point_seed(ctx.seed, int(p["seed"]), alpha, width), alpha=alpha, width=width,
                             draws_out=draws)
        rec["seed"] = int(p["seed"])
        # the NUTS draws travel as the point's arrays (points/<key>.npz): the ArviZ export reads them
        out.append(PointOutput(to_jsonable(rec, nonfinite="null"), ok=bool(rec["theory"]["converged"]),
                               arrays={f"posterior__{k}": v for k, v in draws.items()}))
    return out


def gp_task(ctx: ValidateContext, points: Sequence[Mapping[str, Any]], seed: int) -> list[Any]:
    """Grid task of the GP-limit check (one point, ``gp_width``)."""
    from statmech_attn.compute import PointOutput
    from statmech_attn.io import to_jsonable

    v = ctx.vcfg
    g = gp_limit_check(ctx.base_model, ctx.make_data, v,
                       point_seed(ctx.seed, seed, v.gp_n_train / v.gp_width, v.gp_width))
    return [PointOutput(to_jsonable(g, nonfinite="null"), ok=g["theory_converged"]) for _ in points]


def _failed_point(rec: Any) -> dict[str, Any]:
    """The record of a point whose task raised: marked not used, not passed, with the error."""
    return {"alpha": float(rec.point["alpha"]), "width": int(rec.point["width"]), "seed": int(rec.point["seed"]),
            "used": False, "passed": False, "error": rec.error or str(rec.record.get("result", "error")),
            "comparisons": {}, "mixing": {"mixed": False}}


def validate(base_model: Any, make_data: Callable[[int, int], Any], vcfg: ValidateConfig, seed: int, *,
             out: str | Path | None = None, resume: bool = False, scheduler: Any = None, identity: Any = None,
             posteriors: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole validation: every (α, N, seed) point, N-scaling per (α, seed), the GP-limit check,
    the theory curve.

    ``make_data(P, n_test)`` returns a ``PathsData`` with P training and ``n_test`` test examples
    (picklable for dask schedulers).  The points run through :func:`statmech_attn.compute.run_grid`
    (``scheduler``: ``serial`` (default), ``local[:N]``, ``tcp://…``; ``out``: run directory, one file
    per point; ``resume``: compute only missing points, refusing a changed ``identity``).
    ``passed``: every point mixed and passed (and the GP check when enabled, and the discrepancy
    shrinking with N when ``require_shrinking``).  ``posteriors``: a dict that receives each point's
    NUTS draws under its point key (the key is also written into the point's record).
    """
    from statmech_attn.compute import Grid, run_grid

    t0 = time.perf_counter()
    check_wishart_widths(base_model, vcfg)
    if identity is None:
        identity = {"model": dataclasses.asdict(base_model), "seed": seed,
                    "validate": {k: v for k, v in dataclasses.asdict(vcfg).items() if k not in GRID_KEYS}}
    ctx = ValidateContext(base_model, make_data, vcfg, int(seed))
    grid = Grid.of(alpha=[float(a) for a in vcfg.alphas], width=[int(w) for w in vcfg.widths],
                   seed=[int(s) for s in vcfg.seeds])
    res = run_grid(validate_task, ctx, grid, out=out, resume=resume, identity=identity, scheduler=scheduler,
                   seed=seed, description="paths validate")
    points = [dict(r.record) if r.error is None and "comparisons" in r.record else _failed_point(r) for r in res.points]
    if posteriors is not None:  # {point key: {statistic: NUTS draws (chain, draw, ...)}}
        for r, p in zip(res.points, points):
            d = {k[len("posterior__"):]: v for k, v in r.arrays.items() if k.startswith("posterior__")}
            if d and "comparisons" in p:
                p["key"] = r.key
                posteriors[r.key] = d
    scaling = []
    for alpha in vcfg.alphas:
        for s in vcfg.seeds:
            pts = [p for p in points if p["alpha"] == float(alpha) and p["seed"] == int(s)]
            scaling.append({"alpha": float(alpha), "seed": int(s), **n_scaling(pts)})
    report: dict[str, Any] = {"points": points, "n_scaling": scaling}
    grid_info = {"scheduler": res.scheduler, "points": len(points), "computed": res.computed, "tasks_run": res.tasks_run,
                 "failed": [r.key for r in res.points if r.error is not None]}
    if vcfg.gp_width:
        g = run_grid(gp_task, ctx, Grid.of(gp_width=[int(vcfg.gp_width)]), out=None if out is None else Path(out) / "gp_limit",
                     resume=resume, identity=identity, scheduler=scheduler, seed=seed, description="GP-limit check")
        rec = g.points[0]
        report["gp_limit"] = dict(rec.record) if rec.error is None and "comparisons" in rec.record else {
            "width": vcfg.gp_width, "passed": False, "error": rec.error or "failed"}
        grid_info["gp_limit_computed"] = g.computed
    report["grid"] = grid_info
    if vcfg.theory_curve_points:
        report["theory_curve"] = theory_curve(base_model, make_data, vcfg.alphas, max(vcfg.widths),
                                              vcfg.theory_curve_points, vcfg.n_test)
    all_used = all(p["used"] for p in points)
    passed = all(p["passed"] for p in points)
    if vcfg.gp_width:
        passed = passed and bool(report["gp_limit"]["passed"])
    if vcfg.require_shrinking:
        passed = passed and all(s.get("shrinks") is True for s in scaling)
    report["summary"] = {
        "passed": bool(passed), "all_mixed": bool(all_used),
        "points_passed": sum(bool(p["passed"]) for p in points), "points": len(points),
        "shrinks": [s.get("shrinks") for s in scaling],
        "seconds": time.perf_counter() - t0,
        "rule": (f"|simulation - theory| <= {vcfg.tolerance_sigmas} SE + {vcfg.finite_size_allowance} * scale / N; "
                 f"mixed: R-hat <= {vcfg.rhat_max}, ESS >= {vcfg.ess_min}"),
    }
    return report


def check_wishart_widths(base_model: Any, vcfg: ValidateConfig) -> None:
    """The ``wishart`` sampler needs every width N ≥ D₁ = H₁⋯H_L (a non-singular Wishart law)."""
    d1 = int(np.prod(base_model.heads))
    if vcfg.sampler == "wishart" and min(vcfg.widths) < d1:
        raise InputError("validate.widths", list(vcfg.widths), f"sampler = 'wishart' needs every width >= H_1*...*H_L = {d1}")
    if vcfg.gp_width and vcfg.gp_sampler == "wishart" and vcfg.gp_width < d1:
        raise InputError("validate.gp_width", vcfg.gp_width, f"gp_sampler = 'wishart' needs gp_width >= H_1*...*H_L = {d1}")


def check_enough(data: Any, P: int, n_test: int, param: str = "data.npz") -> Any:
    """The first P training and ``n_test`` test examples of external data (InputError if too few)."""
    from statmech_attn.paths import PathsData

    if data.n_train < P:
        raise InputError(param, data.n_train, f"validation needs P = alpha*N = {P} training examples")
    if data.x_test is None or data.x_test.shape[0] < n_test:
        have = 0 if data.x_test is None else data.x_test.shape[0]
        raise InputError(param, have, f"validation needs validate.n_test = {n_test} test examples with labels")
    return PathsData(x=data.x[:P], attention=tuple(a[:P] for a in data.attention), y=data.y[:P],
                     x_test=data.x_test[:n_test], attention_test=tuple(a[:n_test] for a in data.attention_test),
                     y_test=None if data.y_test is None else data.y_test[:n_test])
