"""``statmech-attn potts``: sample | train | plot (issue 6) and replica | validate (issue 7).

Every verb is thin: config (:class:`~statmech_attn.potts.config.PottsConfig`) -> public API ->
run directory, through :func:`statmech_attn._cli_common.execute`.  ``potts plot DIR`` dispatches on
the verb recorded in ``DIR/result.json`` through :data:`PLOTTERS` (verb -> plotting function).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import typer

from .._cli_common import RunDirArg, fail, plot_run
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


# ==============================================================================================
# issue 7: replica, validate (and their plots) — add commands and PLOTTERS entries below
# ==============================================================================================
