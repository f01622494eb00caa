"""The verbs of ``potts``: ``sample`` and ``replica`` (config -> record) and re-plotting saved runs.

``potts train`` and ``potts validate`` run finite networks: :mod:`statmech_attn.validation.potts.verbs`.
The replica α-curve runs through :mod:`statmech_attn.compute` (chunks of neighbouring α per task).
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .._verb import Verb, VerbOutput
from ..errors import InputError
from ..progress import progress
from .spec import PottsSpec, ReplicaConfig, require

if TYPE_CHECKING:  # the replica theory (JAX) is imported by the compute functions: a config error loads none
    from .replica import ReplicaSetting

_CHUNK = 25  # α-points per compiled scan: a longer grid runs as equal chunks (one compilation)


def sample(cfg: Any) -> Any:
    """``potts sample``: Gibbs (or exact) sequences of the [potts] model with diagnostics (§3)."""
    import numpy as np

    from .spec import require
    from .model import enumerate_exact, model_from_config
    from .sampler import generate

    pc = require(cfg.potts, "potts", "sample")
    sc = cfg.sampler
    model = model_from_config(pc)
    S = generate(model, sc.n_samples, seed=cfg.seed, chains=sc.chains, burn_in=sc.burn_in, thin=sc.thin,
                 scan=sc.scan, exact=sc.exact, max_enumerate=pc.max_enumerate, precision=sc.precision)
    d = S.diagnostics
    n_chains = 1 if sc.exact else sc.chains
    result: dict[str, Any] = {
        "n_samples": int(S.sequences.shape[0]),
        "chains": n_chains,
        "acceptance": d["acceptance"],
        "energy_mean": d["energy_mean"],
        "energy_autocorr_sweeps": d["energy_autocorr_sweeps"],
        "one_site_marginals": d["one_site_marginals"],
        "energy_mean_per_chain": d["energy_mean_per_chain"],
        "marginal_spread": d["marginal_spread"],
        "logit_drift": d["logit_drift"],
        "sweeps": d["sweeps"],
        "site_updates": d["site_updates"],
        "wall_time_s": d["wall_time_s"],
    }
    if pc.colours ** pc.sites <= pc.max_enumerate:
        enum = enumerate_exact(model, pc.max_enumerate)
        err = np.abs(d["one_site_marginals"] - enum.one_site)
        # Monte-Carlo standard error of each marginal, with the energy's autocorrelation time in samples
        tau = 1.0 if sc.exact else max(1.0, d["energy_autocorr_sweeps"] / sc.thin)
        se = np.sqrt(np.maximum(enum.one_site * (1 - enum.one_site), 1e-300) * tau / S.sequences.shape[0])
        result.update({"log_partition": enum.log_partition, "exact_one_site_marginals": enum.one_site,
                       "max_marginal_error": float(err.max()), "max_marginal_z": float((err / se).max())})
    summary = [(k, v) for k, v in result.items() if isinstance(v, (int, float, str))]
    return VerbOutput(result=result, arrays={"sequences": S.sequences, "chain_id": S.chain_id,
                                             "energy_trace": S.energy_trace}, summary=summary)


def setting_from_config(rc: ReplicaConfig) -> ReplicaSetting:
    """The :class:`ReplicaSetting` of a [replica] table (Σ given, or from U by (9)); see
    :meth:`ReplicaSetting.from_config`."""
    from .replica import ReplicaSetting

    return ReplicaSetting.from_config(rc)


def curve(setting: ReplicaSetting, rc: ReplicaConfig, alphas: np.ndarray, *, cubature_check: bool = True,
          description: str = "replica α-curve") -> list[dict[str, Any]]:
    """The α-curve in chunks of equal length (continuation carried across chunks)."""
    from .replica import replica_curve

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
    from .replica import replica_curve

    setting, rc, chunk = context
    a = [float(p["alpha"]) for p in points]
    padded = a + [max(a)] * max(0, chunk - len(a))  # one compiled shape for every task
    recs = replica_curve(setting, padded, None, solver=rc.solver, max_steps=rc.max_steps, tol=rc.tol,
                         damping=rc.damping, cubature_check=True)[:len(a)]
    return [PointOutput(r, ok=bool(r["converged"])) for r in recs]


def replica_identity(cfg: PottsSpec) -> dict[str, Any]:
    """The [replica] table minus its α grid: what a resumed ``potts replica`` grid must match."""
    from ..config import to_toml_dict

    grid_keys = ("alphas", "alpha_min", "alpha_max", "n_alphas")
    table = to_toml_dict(cfg).get("replica", {})
    return {"replica": {k: v for k, v in table.items() if k not in grid_keys}}


def replica_compute(cfg: PottsSpec, alphas: Sequence[float] | None = None, *, out: Any = None,
                    resume: bool = False, scheduler: str | None = None) -> VerbOutput:
    """``potts replica``: the RS saddle point and observables at every α of [replica] (§7), or at
    ``alphas`` (the ``--alphas`` option, recorded in the result as ``alphas_override``).

    The α grid runs through :mod:`statmech_attn.compute` (``--scheduler``, ``--resume``): chunks of
    ``[compute] chunk`` neighbouring α per task (continuation inside a chunk), one file per point."""
    from ..compute import Grid, resolve_scheduler, run_grid
    from .replica import POINT_KEYS

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



def _plot(verb: str) -> Any:
    def plot(record: dict[str, Any], arrays: dict[str, Any]) -> Sequence[tuple[Any, str]]:
        from . import plots

        return getattr(plots, f"{verb}_figures")(record, arrays)

    plot.__doc__ = f"Figures of a saved ``potts {verb}`` run."
    return plot


VERBS = {
    "sample": Verb(PottsSpec, sample),
    "replica": Verb(PottsSpec, replica_compute, options=("alphas",), grid=True),
}
PLOTS = {verb: _plot(verb) for verb in ("sample", "train", "replica", "validate")}
