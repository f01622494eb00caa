"""``paths validate``: the saddle-point theory against finite networks (NUTS, GD, Langevin) over an
(α, N, seed) grid (:mod:`statmech_attn.validation.paths.compare`), each point a task of
:mod:`statmech_attn.compute` (``--scheduler``, ``--resume``); ``report.json`` holds every number,
its error bar, the diagnostics and a pass/fail per statistic."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

from statmech_attn._verb import Verb, VerbOutput
from statmech_attn.paths import _task
from statmech_attn.paths.spec import PathsSpec, model_from_config
from statmech_attn.paths.verbs import sweep_identity


@dataclasses.dataclass(frozen=True)
class DataMaker:
    """``make_data(P, n_test)`` of a config, picklable (dask workers rebuild the data themselves):
    the bundled task's settings (``hmm``) or the loaded external data (``full``)."""

    hmm: Any = None
    full: Any = None

    def __call__(self, P: int, n_test: int) -> Any:
        from .compare import check_enough

        if self.full is not None:
            return check_enough(self.full, P, n_test)
        fields = {f: getattr(self.hmm, f) for f in self.hmm.__dataclass_fields__}
        return _task.hmm_task(_task.HMMTask(**{**fields, "n_train": P, "n_test": n_test}))


def data_maker(cfg: Any) -> tuple[Callable[[int, int], Any], tuple[int, ...]]:
    """``make_data(P, n_test)`` for the config's data, and the head counts of that data."""
    from statmech_attn.paths._data import load_data

    if cfg.data.npz:
        full = load_data(cfg.data.npz, "data.npz")
        return DataMaker(full=full), full.heads
    h = cfg.data.hmm
    return DataMaker(hmm=h), tuple(len(layer) for layer in h.layer_heads)


def validate_identity(cfg: Any, vcfg: Any) -> dict[str, Any]:
    """What a resumed ``paths validate`` must match: the resolved config with the effective
    [validate] settings (``--quick`` applied) minus its grid axes (widths, alphas, seeds) and
    report-only keys, without [sweep] and [compute]; the SHA-256 of external data."""
    from .compare import GRID_KEYS

    from statmech_attn.config import to_toml_dict

    ident = sweep_identity(cfg)
    ident["validate"] = {k: v for k, v in to_toml_dict(vcfg).items() if k not in GRID_KEYS}
    return ident


def run_validate(cfg: Any, *, quick: bool = False, out: Any = None, resume: bool = False,
                 scheduler: str | None = None) -> VerbOutput:
    """``paths validate``: theory vs finite networks over the (α, N, seed) grid; the report and figures.

    The points run through :mod:`statmech_attn.compute` (``--scheduler``/``[compute]``,
    ``--resume``), one file per point under ``out/points/``; ``report.json`` is assembled from them."""
    from .compare import validate
    from .plots import figures_from_report

    from statmech_attn.compute import resolve_scheduler

    vcfg = cfg.validate.quick() if quick else cfg.validate
    make_data, heads = data_maker(cfg)
    base = model_from_config(cfg.model, heads)
    posteriors: dict[str, Any] = {}
    report = validate(base, make_data, vcfg, cfg.seed, out=out, resume=resume,
                      scheduler=resolve_scheduler(cfg.compute, scheduler), identity=validate_identity(cfg, vcfg),
                      posteriors=posteriors)
    report["quick"] = quick
    report["settings"] = dataclasses.asdict(vcfg)
    s = report["summary"]
    gi = report["grid"]
    rows: list[tuple[str, Any]] = [("passed", s["passed"]), ("points passed", f"{s['points_passed']} of {s['points']}"),
                                   ("all mixed", s["all_mixed"]), ("discrepancy shrinks with N", str(s["shrinks"])),
                                   ("computed now", f"{gi['computed']} of {gi['points']} points ({gi['scheduler']})"),
                                   ("seconds", round(s["seconds"], 1))]
    for p in report["points"]:
        tag = f"alpha={p['alpha']:g} N={p['width']}" + (f" seed={p['seed']}" if len(vcfg.seeds) > 1 else "")
        if "error" in p:
            rows.append((tag, f"FAILED: {p['error']}"))
            continue
        worst = max(p["comparisons"].items(), key=lambda kv: kv[1]["discrepancy_corrected"])
        rows.append((tag, f"{'mixed' if p['mixing']['mixed'] else 'NOT mixed'} (R-hat {p['mixing']['max_rhat']:.3f}, "
                          f"ESS {p['mixing']['min_ess']:.0f}), {'pass' if p['passed'] else 'FAIL'}; largest discrepancy "
                          f"{worst[0]} {worst[1]['discrepancy_corrected']:.3g}"))
        if "langevin" in p:
            lm = p["langevin"]["mixing"]
            lpass = all(c["passed"] for c in p["langevin"]["comparisons"].values())
            rows.append((tag + " Langevin", f"{'mixed' if lm['mixed'] else 'NOT mixed'} (R-hat {lm['max_rhat']:.3f}, "
                                            f"ESS {lm['min_ess']:.0f}), {'within' if lpass else 'NOT within'} the tolerance"))
    if "gp_limit" in report:
        g = report["gp_limit"]
        if "error" in g:
            rows.append(("GP-limit check", f"FAILED: {g['error']}"))
        else:
            z = max(c["max_z"] for c in g["comparisons"].values())
            rows.append(("GP-limit check", f"N={g['width']} P={g['n_train']}: {'pass' if g['passed'] else 'FAIL'} "
                                           f"(max |sampled - GP| = {z:.2f} SE; saddle point - GP = "
                                           f"{max(g['theory_gap_sigmas'].values()):.2f} SE)"))
    rows += posterior_rows(report, posteriors, out)
    figures = figures_from_report(report)
    msg = ("paths validate: " + ("not every point mixed (R-hat/ESS); " if not s["all_mixed"] else "")
           + f"{s['points_passed']} of {s['points']} points passed ({s['rule']})"
           + ("" if "gp_limit" not in report else f"; GP-limit check {'passed' if report['gp_limit']['passed'] else 'FAILED'}"))
    ok = bool(s["passed"])
    if quick:  # tiny sizes check the machinery: it ran when every point and the GP check computed
        errors = [p for p in report["points"] if "error" in p] + (
            [report["gp_limit"]] if "error" in report.get("gp_limit", {}) else [])
        ok = not errors
        report["quick_note"] = "machinery ok — not a validation" if ok else "the machinery failed"
        rows.insert(0, ("--quick", report["quick_note"]))
        msg = f"paths validate --quick: {len(errors)} point(s) raised an error"
    return VerbOutput(result=report, ok=ok, summary=rows, figures=figures, message=msg,
                      extra_files={"report.json": report})


def posterior_rows(report: dict[str, Any], posteriors: dict[str, Any], out: Any) -> list[tuple[str, Any]]:
    """Each point's NUTS draws as ArviZ InferenceData (``posterior_<point key>.nc`` in the run folder
    with --out) and an ``az.summary`` table (with the theory and z) per point for the summary."""
    from pathlib import Path

    from .inference import summary, summary_text, to_inference_data, write_posterior

    rows: list[tuple[str, Any]] = []
    for p in report["points"]:
        draws = posteriors.get(p.get("key", ""))
        if not draws:
            continue
        idata = to_inference_data(draws, p)
        table = summary(idata, p["comparisons"])
        if out is not None:
            write_posterior(idata, Path(out) / f"posterior_{p['key']}.nc")
            table.to_csv(Path(out) / f"posterior_summary_{p['key']}.csv")
        tag = f"alpha={p['alpha']:g} N={p['width']}" + (f" seed={p['seed']}" if len(report["settings"]["seeds"]) > 1 else "")
        rows.append((f"{tag} az.summary", summary_text(table)))
    return rows


def plot_validate(record: dict[str, Any], arrays: dict[str, Any]) -> Sequence[tuple[Any, str]]:
    from .plots import figures_from_report

    return figures_from_report(record["result"])



VERBS = {"validate": Verb(PathsSpec, run_validate, options=("quick",), grid=True)}
PLOTS = {"validate": plot_validate}
