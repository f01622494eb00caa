"""A test-only verb that runs its grid through the execution layer via the shared CLI machinery."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer

from statmech_attn import config
from statmech_attn._verb import Verb, VerbOutput
from statmech_attn.cli._common import ConfigArg, ForceOpt, JsonOpt, OutOpt, ResumeOpt, SchedulerOpt, SetOpt, execute
from statmech_attn.compute import ComputeConfig, Grid, resolve_scheduler, run_grid

from .toy import fixed_point_task


@dataclasses.dataclass(frozen=True)
class ToyModel:
    temperature: float = config.field(0.01, check=config.positive)


@dataclasses.dataclass(frozen=True)
class ToySchema:
    seed: int = 0
    alphas: tuple[float, ...] = config.field((0.5,), check=config.all_positive)
    model: ToyModel = dataclasses.field(default_factory=ToyModel)
    compute: ComputeConfig = dataclasses.field(default_factory=ComputeConfig)


app = typer.Typer()


@app.command()
def sweep(config_path: ConfigArg, out: OutOpt = None, as_json: JsonOpt = False, force: ForceOpt = False,
          resume: ResumeOpt = False, sets: SetOpt = None, scheduler: SchedulerOpt = None) -> None:
    def compute(cfg: ToySchema, *, out: Path | None = None, resume: bool = False,
                scheduler: str | None = None) -> VerbOutput:
        grid = Grid.of(along="alpha", chunk=cfg.compute.chunk, alpha=cfg.alphas)
        identity = {"model": dataclasses.asdict(cfg.model), "seed": cfg.seed}
        r = run_grid(fixed_point_task, {}, grid, out=out, resume=resume, identity=identity,
                     scheduler=resolve_scheduler(cfg.compute, scheduler), seed=cfg.seed)
        return VerbOutput({"alpha": r.coordinate("alpha"), "x": r.column("x"), "tasks_run": r.tasks_run}, ok=r.ok)

    execute("toy sweep", Path(config_path), verb=Verb(ToySchema, compute, grid=True), out=out, as_json=as_json,
            force=force, resume=resume, sets=sets, scheduler=scheduler)
