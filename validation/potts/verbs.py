"""``potts train`` (a factored or vanilla layer trained by masked language modelling; recovery vs the
model) and ``potts validate`` (the replica theory against finite-size ERM or the MLM-trained layer)."""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from statmech_attn._verb import Verb, VerbOutput
from statmech_attn.errors import InputError
from statmech_attn.potts.spec import PottsSpec, require
from statmech_attn.potts.verbs import curve, replica_identity, setting_from_config


def _load_sequences(path: str, param: str) -> tuple[Any, Any]:
    """Sequences from an NPZ (array ``sequences``) or a ``potts sample`` run directory; also returns the
    [potts] table of that run (or None)."""
    from pathlib import Path

    from statmech_attn.config import load_config, load_npz_arrays

    p = Path(path)
    run_potts = None
    if p.is_dir():
        if (p / "config.toml").is_file():
            try:
                run_potts = load_config(p / "config.toml", PottsSpec).potts
            except InputError:
                run_potts = None
        p = p / "arrays.npz"
    arrays = load_npz_arrays(p, param)
    if "sequences" not in arrays:
        raise InputError(param, str(p), f"must hold an array named 'sequences' (has {sorted(arrays)})")
    return arrays["sequences"], run_potts


def train(cfg: Any) -> Any:
    """``potts train``: train the [train] layer by MLM and measure recovery against [potts] (§4–§6)."""
    import numpy as np

    from .train import evaluate, layer_attention, layer_couplings, split_sequences, train_layer

    from statmech_attn.potts.metrics import pair_scores, symmetrised_couplings, true_couplings
    from statmech_attn.potts.model import model_from_config
    from statmech_attn.potts.pseudolikelihood import check_sequences

    tc = cfg.train
    if not tc.data:
        raise InputError("train.data", "", "is required: an NPZ with `sequences` (M, L) or a `potts sample` run directory")
    raw, run_potts = _load_sequences(tc.data, "train.data")
    potts = cfg.potts if cfg.potts is not None else run_potts
    if potts is not None:
        C = potts.colours
        if tc.colours is not None and tc.colours != C:
            raise InputError("train.colours", tc.colours, f"must equal potts.colours = {C}")
    elif tc.colours is not None:
        C = tc.colours
    else:
        raise InputError("train.colours", None, "is required when there is no [potts] table (number of colours C)")
    seqs = check_sequences(raw, C, "train.data")
    if potts is not None and seqs.shape[1] != potts.sites:
        raise InputError("train.data", f"shape {seqs.shape}", f"sequences must have L = potts.sites = {potts.sites} columns")
    model = model_from_config(potts) if potts is not None else None
    if tc.test_data:
        test, _ = _load_sequences(tc.test_data, "train.test_data")
        test = check_sequences(test, C, "train.test_data")
        if test.shape[1] != seqs.shape[1]:
            raise InputError("train.test_data", f"shape {test.shape}", f"must have L = {seqs.shape[1]} columns")
        test_set = "test_data"
    else:
        test = split_sequences(seqs, tc.validation_fraction, cfg.seed)[1]
        test_set = "validation"
        if test.shape[0] == 0:
            test, test_set = seqs, "train"
    for M in tc.sizes:
        if M > seqs.shape[0]:
            raise InputError("train.sizes", list(tc.sizes), f"every size must be <= the number of sequences {seqs.shape[0]}")

    trained = train_layer(seqs, C, tc, seed=cfg.seed, description=f"training {tc.layer}")
    metrics = evaluate(trained, test, model, cfg.validate.edge_tol)
    result: dict[str, Any] = {
        "layer": tc.layer,
        "attention": tc.attention if tc.layer == "factored" else "softmax",
        "train_loss": trained.train_loss,
        "validation_loss": trained.validation_loss,
        "epochs_run": trained.epochs_run,
        "best_epoch": trained.best_epoch,
        **metrics,
        "n_train": trained.n_train,
        "n_validation": trained.n_validation,
        "n_test": int(test.shape[0]),
        "test_set": test_set,
        "wall_time_s": trained.wall_time_s,
        "steps_per_second": trained.steps / max(trained.wall_time_s, 1e-12),
    }
    curve = []
    for M in tc.sizes:
        sub = train_layer(seqs[:M], C, tc, seed=cfg.seed, description=f"M = {M}")
        curve.append({"n_samples": int(M), "epochs_run": sub.epochs_run, **evaluate(sub, test, model, cfg.validate.edge_tol)})
    if curve:
        result["recovery_curve"] = curve
    arrays: dict[str, Any] = {"attention": layer_attention(trained, test), "loss_curve": trained.loss_curve}
    if tc.layer == "factored":
        J, _ = layer_couplings(trained)
        sym = symmetrised_couplings(J)
        arrays.update({"value": np.asarray(trained.params.V), "couplings": np.asarray(sym),
                       "pair_scores": pair_scores(sym)})
        if trained.params.b is not None:
            arrays["bias"] = np.asarray(trained.params.b)
    else:
        A = arrays["attention"][0]
        arrays["pair_scores"] = 0.5 * (np.abs(A) + np.abs(A.T))
    if model is not None:
        arrays["true_pair_scores"] = pair_scores(true_couplings(model))
    summary = [(k, v) for k, v in result.items() if isinstance(v, (int, float, str)) and v is not None]
    return VerbOutput(result=result, arrays=arrays, summary=summary)



GTOL = 1e-8  # gradient norm (units of (10)) below which a finite-size fit counts as the minimiser


def validate_task(context: tuple[Any, Any, Any], points: Sequence[dict[str, Any]], seed: int) -> list[Any]:
    """Grid task of ``potts validate`` (statmech_attn.compute): one finite-size fit per (N, α, seed) point.

    ``target = "replica"``: ERM (10) (:func:`statmech_attn.validation.potts.replica_erm.erm_point`);
    ``"train"``: the factored layer trained by MLM (:func:`statmech_attn.validation.potts.replica_mlm.mlm_point`).
    A point whose fit stops above the gradient tolerance is recorded with ``ok = False``.
    """
    from statmech_attn.compute import PointOutput

    problem, vc, sampler = context
    outs = []
    for p in points:
        N, alpha, sd = int(p["size"]), float(p["alpha"]), int(p["seed"])
        if vc.target == "replica":
            from .replica_erm import erm_point

            rec = erm_point(problem, alpha, N, sd, mode=vc.mode, n_test=vc.n_test, gtol=GTOL)
        else:
            from .replica_mlm import mlm_point

            rec = mlm_point(problem, alpha, N, sd, contexts=vc.contexts, n_test=vc.n_test, sampler=sampler, gtol=GTOL)
        outs.append(PointOutput(rec, ok=bool(rec["grad_norm"] <= GTOL)))
    return outs


def validate_identity(cfg: PottsSpec) -> dict[str, Any]:
    """What a resumed ``potts validate`` grid must match: [replica] minus its α grid, [validate] minus
    sizes and seeds, and [sampler] when the layer is trained on Gibbs samples."""
    from statmech_attn.config import to_toml_dict

    table = to_toml_dict(cfg)
    ident = replica_identity(cfg)
    ident["validate"] = {k: v for k, v in table.get("validate", {}).items() if k not in ("sizes", "seeds")}
    if cfg.validate.target == "train" and cfg.validate.contexts == "potts":
        ident["sampler"] = table.get("sampler", {})
    return ident


def validate_compute(cfg: PottsSpec, *, out: Any = None, resume: bool = False,
                     scheduler: str | None = None) -> VerbOutput:
    """``potts validate``: the replica theory (§7) against finite-size simulations (§7.9).

    Every (N, α, seed) is one task of :mod:`statmech_attn.compute` (``--scheduler``, ``--resume``;
    one file per point); per (N, α) the mean ± standard error over seeds of m, q, test_ce, kl, eps_w
    is compared with the theory (z-scores), ``passed`` when every |z| < 3 at the largest N.
    ``target = "replica"``: ERM (10); ``"train"``: the factored layer trained by MLM on Potts data
    through the map of §7.1 (:mod:`statmech_attn.validation.potts.replica_mlm`)."""
    from .replica_erm import COMPARED, SIM_KEYS, ERMProblem, compare, summarise

    from statmech_attn.compute import Grid, resolve_scheduler, run_grid
    from statmech_attn.potts.replica import POINT_KEYS

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



VERBS = {
    "train": Verb(PottsSpec, train),
    "validate": Verb(PottsSpec, validate_compute, grid=True),
}
