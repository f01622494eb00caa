"""``statmech-attn paths validate CONFIG.toml --out DIR [--quick]`` and ``paths plot DIR`` (issue 8).

Registered on the ``paths`` typer app by :func:`register` (called from ``statmech_attn/paths/cli.py``).
``validate`` compares the saddle-point theory with NUTS samples (and GD / Langevin) of finite
networks over a widths ladder (:mod:`validation.paths.compare`); ``report.json`` holds every number,
its error bar, the diagnostics and a pass/fail per statistic.  ``plot`` makes figures from a saved
run directory without recomputation, dispatching on the verb in ``result.json`` through
:data:`PLOTTERS` (other verbs of ``paths`` may register their plotting function there).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Callable, Sequence

import typer

from .._cli_common import (ConfigArg, ForceOpt, JsonOpt, OutOpt, RunDirArg, SetOpt, VerbOutput, execute,
                           plot_run)
from ..errors import InputError

PlotFn = Callable[[dict[str, Any], dict[str, Any]], Sequence[tuple[Any, str]]]
#: verb -> function(record, arrays) -> [(fig, stem), ...] used by ``paths plot``
PLOTTERS: dict[str, PlotFn] = {}

QuickOpt = Annotated[bool, typer.Option("--quick", help="Tiny sizes (widths 8, 16; 4 chains x 200 draws): a smoke test, not a validation.")]


def validate_schema() -> type:
    """The config schema of ``paths validate``: the paths schema with its ``[validate]`` table."""
    from validation.paths.config import ValidateConfig

    from .config import PathsConfig

    if "validate" in {f.name for f in dataclasses.fields(PathsConfig)}:
        return PathsConfig
    return dataclasses.make_dataclass(
        "PathsValidateConfig", [("validate", ValidateConfig, dataclasses.field(default_factory=ValidateConfig))],
        bases=(PathsConfig,), frozen=True)


def data_maker(cfg: Any) -> tuple[Callable[[int, int], Any], tuple[int, ...]]:
    """``make_data(P, n_test)`` for the config's data, and the head counts of that data."""
    from . import _task
    from ._data import load_data
    from validation.paths.compare import check_enough

    if cfg.data.npz:
        full = load_data(cfg.data.npz, "data.npz")
        return (lambda P, n_test: check_enough(full, P, n_test)), full.heads
    h = cfg.data.hmm
    fields = {f: getattr(h, f) for f in h.__dataclass_fields__}

    def make(P: int, n_test: int) -> Any:
        return _task.hmm_task(_task.HMMTask(**{**fields, "n_train": P, "n_test": n_test}))

    return make, tuple(len(layer) for layer in h.layer_heads)


def run_validate(cfg: Any, *, quick: bool = False) -> VerbOutput:
    """``paths validate``: theory vs finite networks over the widths ladder; the report and figures."""
    from validation.paths.compare import validate
    from validation.paths.plots import figures_from_report

    from .config import model_from_config

    vcfg = cfg.validate.quick() if quick else cfg.validate
    make_data, heads = data_maker(cfg)
    base = model_from_config(cfg.model, heads)
    report = validate(base, make_data, vcfg, cfg.seed)
    report["quick"] = quick
    report["settings"] = dataclasses.asdict(vcfg)
    s = report["summary"]
    rows: list[tuple[str, Any]] = [("passed", s["passed"]), ("points passed", f"{s['points_passed']} of {s['points']}"),
                                   ("all mixed", s["all_mixed"]), ("discrepancy shrinks with N", str(s["shrinks"])),
                                   ("seconds", round(s["seconds"], 1))]
    for p in report["points"]:
        worst = max(p["comparisons"].items(), key=lambda kv: kv[1]["discrepancy_corrected"])
        rows.append((f"alpha={p['alpha']:g} N={p['width']}",
                     f"{'mixed' if p['mixing']['mixed'] else 'NOT mixed'} (R-hat {p['mixing']['max_rhat']:.3f}, "
                     f"ESS {p['mixing']['min_ess']:.0f}), {'pass' if p['passed'] else 'FAIL'}; largest discrepancy "
                     f"{worst[0]} {worst[1]['discrepancy_corrected']:.3g}"))
    if "gp_limit" in report:
        g = report["gp_limit"]
        rows.append(("GP-limit check", f"N={g['width']} P={g['n_train']}: {'pass' if g['passed'] else 'FAIL'}"))
    figures = figures_from_report(report)
    msg = ("paths validate: " + ("not every point mixed (R-hat/ESS); " if not s["all_mixed"] else "")
           + f"{s['points_passed']} of {s['points']} points passed ({s['rule']})")
    return VerbOutput(result=report, ok=bool(s["passed"]), summary=rows, figures=figures, message=msg,
                      extra_files={"report.json": report})


def _plot_validate(record: dict[str, Any], arrays: dict[str, Any]) -> Sequence[tuple[Any, str]]:
    from validation.paths.plots import figures_from_report

    return figures_from_report(record["result"])


PLOTTERS["validate"] = _plot_validate


def _dispatch(record: dict[str, Any], arrays: dict[str, Any]) -> Sequence[tuple[Any, str]]:
    verb = record.get("verb")
    if verb not in PLOTTERS:
        raise InputError("run_dir", verb, "holds a paths run of a verb without figures; plottable: " + ", ".join(sorted(PLOTTERS)))
    return PLOTTERS[verb](record, arrays)


def register(app: typer.Typer) -> None:
    """Add ``validate`` and ``plot`` to the ``paths`` typer app."""

    @app.command("validate")
    def validate_cmd(config: ConfigArg, out: OutOpt = None, quick: QuickOpt = False, json: JsonOpt = False,
                     force: ForceOpt = False, set_: SetOpt = None) -> None:
        """Theory vs finite networks: NUTS (and GD/Langevin) over a widths ladder, pass/fail per statistic, N-scaling."""
        execute("paths", "validate", config, validate_schema(), lambda cfg: run_validate(cfg, quick=quick),
                out=out, as_json=json, force=force, sets=set_)

    @app.command("plot")
    def plot_cmd(run_dir: RunDirArg) -> None:
        """Figures (PNG and PDF) from a saved paths run directory; no recomputation."""
        plot_run(run_dir, _dispatch, expect_theory="paths")
