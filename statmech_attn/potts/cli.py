"""``statmech-attn potts``: sample | train | plot (issue 6) and replica | validate (issue 7).

Every verb is thin: config (:class:`~statmech_attn.potts.config.PottsConfig`) -> public API ->
run directory, through :func:`statmech_attn._cli_common.execute`.  ``potts plot DIR`` dispatches on
the verb recorded in ``DIR/result.json`` through :data:`PLOTTERS` (verb -> plotting function).
"""

from __future__ import annotations

from typing import Annotated, Any, Callable, Optional, Sequence

import typer

from .._cli_common import (ConfigArg, ForceOpt, JsonOpt, OutOpt, ResumeOpt, RunDirArg, SetOpt, execute, fail,
                           plot_run)
from ..compute import SchedulerOpt
from ..errors import InputError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Potts model, factored attention, pseudo-likelihood, replica theory (seed 002).")

# verb -> function(record, arrays) -> [(fig, stem), ...]; each verb's section registers its own
PlotFn = Callable[[dict[str, Any], dict[str, Any]], Sequence[tuple[Any, str]]]
PLOTTERS: dict[str, PlotFn] = {}


def _plot_dispatch(record: dict[str, Any], arrays: dict[str, Any]) -> Sequence[tuple[Any, str]]:
    verb = record.get("verb")
    if verb not in PLOTTERS:
        raise InputError("run_dir", verb, "holds a potts run of a verb that has no plot; plottable: "
                         + ", ".join(sorted(PLOTTERS)))
    return PLOTTERS[verb](record, arrays)


@app.command()
def plot(run_dir: RunDirArg) -> None:
    """Figures from a saved potts run directory (sample, train, replica, validate); no recomputation."""
    plot_run(run_dir, _plot_dispatch, expect_theory="potts")


# ==============================================================================================
# issue 6: sample, train (and their plots)
# ==============================================================================================


def _sample_compute(cfg: Any) -> Any:
    """``potts sample``: Gibbs (or exact) sequences of the [potts] model with diagnostics (§3)."""
    import numpy as np

    from .._cli_common import VerbOutput
    from .config import require
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


@app.command()
def sample(config: ConfigArg, out: OutOpt = None, as_json: JsonOpt = False, force: ForceOpt = False,
           sets: SetOpt = None) -> None:
    """Sample sequences of the [potts] model ([sampler] settings): arrays.npz holds `sequences`, `chain_id`."""
    from .config import PottsConfig

    execute("potts", "sample", config, PottsConfig, _sample_compute, out=out, as_json=as_json, force=force,
            sets=sets)


def _load_sequences(path: str, param: str) -> tuple[Any, Any]:
    """Sequences from an NPZ (array ``sequences``) or a ``potts sample`` run directory; also returns the
    [potts] table of that run (or None)."""
    from pathlib import Path

    from ..config import load_config, load_npz_arrays
    from .config import PottsConfig

    p = Path(path)
    run_potts = None
    if p.is_dir():
        if (p / "config.toml").is_file():
            try:
                run_potts = load_config(p / "config.toml", PottsConfig).potts
            except InputError:
                run_potts = None
        p = p / "arrays.npz"
    arrays = load_npz_arrays(p, param)
    if "sequences" not in arrays:
        raise InputError(param, str(p), f"must hold an array named 'sequences' (has {sorted(arrays)})")
    return arrays["sequences"], run_potts


def _train_compute(cfg: Any) -> Any:
    """``potts train``: train the [train] layer by MLM and measure recovery against [potts] (§4–§6)."""
    import numpy as np

    from statmech_attn.validation.potts.train import evaluate, layer_attention, layer_couplings, split_sequences, train_layer

    from .._cli_common import VerbOutput
    from .metrics import pair_scores, symmetrised_couplings, true_couplings
    from .model import model_from_config
    from .pseudolikelihood import check_sequences

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


@app.command()
def train(config: ConfigArg, out: OutOpt = None, as_json: JsonOpt = False, force: ForceOpt = False,
          sets: SetOpt = None) -> None:
    """Train a factored or vanilla attention layer by masked language modelling ([train]); recovery vs [potts]."""
    from .config import PottsConfig

    execute("potts", "train", config, PottsConfig, _train_compute, out=out, as_json=as_json, force=force,
            sets=sets)


def _sample_plot(record: dict[str, Any], arrays: dict[str, Any]) -> Sequence[tuple[Any, str]]:
    from .figures import sample_figures

    return sample_figures(record, arrays)


def _train_plot(record: dict[str, Any], arrays: dict[str, Any]) -> Sequence[tuple[Any, str]]:
    from .figures import train_figures

    return train_figures(record, arrays)


PLOTTERS["sample"] = _sample_plot
PLOTTERS["train"] = _train_plot


# ==============================================================================================
# issue 7: replica, validate (and their plots) — add commands and PLOTTERS entries below
# ==============================================================================================


@app.command()
def replica(config: ConfigArg,
            alphas: Annotated[Optional[list[str]], typer.Option(
                "--alphas", help="α values, comma-separated or repeated (replace the config's α grid).")] = None,
            out: OutOpt = None, as_json: JsonOpt = False, force: ForceOpt = False, sets: SetOpt = None,
            resume: ResumeOpt = False, scheduler: SchedulerOpt = None) -> None:
    """Replica-symmetric saddle point and observables vs α ([replica], theory §7): one record per α.

    Runs on --scheduler serial | local[:N] | tcp://HOST:PORT; --resume computes only missing α."""
    import functools

    from ._replica_cli import parse_alphas, replica_compute
    from .config import PottsConfig

    try:
        grid = parse_alphas(alphas)
    except InputError as e:
        raise fail(str(e), 2) from None
    execute("potts", "replica", config, PottsConfig,
            functools.partial(replica_compute, alphas=grid, out=out, resume=resume, scheduler=scheduler), out=out,
            as_json=as_json, force=force, resume=resume, sets=sets)


@app.command()
def validate(config: ConfigArg, out: OutOpt = None, as_json: JsonOpt = False, force: ForceOpt = False,
             sets: SetOpt = None, resume: ResumeOpt = False, scheduler: SchedulerOpt = None) -> None:
    """Replica theory vs finite-size ERM or the MLM-trained layer ([replica], [validate]; §7.9); exit 1 if |z| ≥ 3.

    One task per (N, α, seed) on --scheduler serial | local[:N] | tcp://HOST:PORT; --resume computes only
    missing points."""
    import functools

    from ._replica_cli import validate_compute
    from .config import PottsConfig

    execute("potts", "validate", config, PottsConfig,
            functools.partial(validate_compute, out=out, resume=resume, scheduler=scheduler), out=out,
            as_json=as_json, force=force, resume=resume, sets=sets)


def _replica_plot(record: dict[str, Any], arrays: dict[str, Any]) -> Sequence[tuple[Any, str]]:
    from ._replica_cli import replica_figures

    return replica_figures(record, arrays)


def _validate_plot(record: dict[str, Any], arrays: dict[str, Any]) -> Sequence[tuple[Any, str]]:
    from ._replica_cli import validate_figures

    return validate_figures(record, arrays)


PLOTTERS["replica"] = _replica_plot
PLOTTERS["validate"] = _validate_plot

from . import _derive_cli as _derive_cli  # noqa: E402,F401  (registers `statmech-attn derive potts`)
