"""``statmech-attn potts``: sample, train, replica, validate, plot."""

from __future__ import annotations

import typer

from ._common import (AlphasOpt, ConfigArg, ForceOpt, JsonOpt, OutOpt, ResumeOpt, RunDirArg, SchedulerOpt, SetOpt,
                      execute, fail, parse_floats, plot, StyleOpt)
from ..errors import InputError

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Potts data, factored attention, pseudo-likelihood and the replica theory "
                       "(Rende, Gerace, Laio, Goldt, 2024).")


@app.command("sample")
def sample_cmd(config: ConfigArg, out: OutOpt = None, json: JsonOpt = False, force: ForceOpt = False,
               set_: SetOpt = None) -> None:
    """Sample sequences of the \\[potts] model (\\[sampler] settings): arrays.npz holds `sequences`, `chain_id`."""
    execute("potts sample", config, out=out, as_json=json, force=force, sets=set_)


@app.command("train")
def train_cmd(config: ConfigArg, out: OutOpt = None, json: JsonOpt = False, force: ForceOpt = False,
              set_: SetOpt = None) -> None:
    """Train a factored or vanilla attention layer by masked language modelling (\\[train]); recovery vs \\[potts]."""
    execute("potts train", config, out=out, as_json=json, force=force, sets=set_)


@app.command("replica")
def replica_cmd(config: ConfigArg, alphas: AlphasOpt = None, out: OutOpt = None, json: JsonOpt = False,
                force: ForceOpt = False, resume: ResumeOpt = False, set_: SetOpt = None,
                scheduler: SchedulerOpt = None) -> None:
    """Replica-symmetric saddle point and observables vs α (\\[replica]): one record per α.

    Runs on --scheduler serial | local[:N] | tcp://HOST:PORT; --resume computes only missing α."""
    try:
        grid = parse_floats(alphas)
    except InputError as e:
        raise fail(str(e), 2) from None
    execute("potts replica", config, out=out, as_json=json, force=force, resume=resume, sets=set_,
            alphas=grid, scheduler=scheduler)


@app.command("validate")
def validate_cmd(config: ConfigArg, out: OutOpt = None, json: JsonOpt = False, force: ForceOpt = False,
                 resume: ResumeOpt = False, set_: SetOpt = None, scheduler: SchedulerOpt = None) -> None:
    """Replica theory vs finite-size ERM or the MLM-trained layer (\\[replica], \\[validate]); exit 1 if |z| ≥ 3.

    One task per (N, α, seed) on --scheduler serial | local[:N] | tcp://HOST:PORT; --resume computes only
    missing points."""
    execute("potts validate", config, out=out, as_json=json, force=force, resume=resume, sets=set_,
            scheduler=scheduler)


@app.command("plot")
def plot_cmd(run_dir: RunDirArg, style: StyleOpt = "default") -> None:
    """Figures from a saved potts run directory (sample, train, replica, validate); no recomputation."""
    plot("potts", run_dir, style)
