"""What a verb computes, independent of how it is called (command line or :func:`statmech_attn.run`).

Each theory lists its verbs in ``<theory>/verbs.py`` (and ``validation/<theory>/verbs.py`` for those
that run finite networks) as a ``VERBS`` mapping from the verb's name to a :class:`Verb`: the config
schema (a frozen dataclass with ``from_config``-style validation, see :mod:`statmech_attn.config`) and
a compute function ``config -> VerbOutput``.  Saved runs are re-plotted through ``PLOTS``: verb ->
``(record, arrays) -> [(figure, stem), ...]``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, Sequence

PlotFn = Callable[[dict[str, Any], dict[str, Any]], Sequence[tuple[Any, str]]]


@dataclasses.dataclass
class VerbOutput:
    """What a verb's compute function returns.

    Attributes:
        result: the ``result`` object of ``result.json`` (plain values, arrays allowed).
        arrays: large arrays for ``arrays.npz``.
        ok: False when the run did not converge / the validation did not pass (exit 1).
        summary: (label, value) rows for the human summary; defaults to the scalar entries of result.
        figures: (matplotlib figure, file stem) pairs saved as PNG and PDF with ``--out``.
        message: one line printed on stderr when ``ok`` is False.
        extra_files: {file name: JSON-able object} written next to result.json (e.g. report.json).
    """

    result: Mapping[str, Any]
    arrays: Mapping[str, Any] | None = None
    ok: bool = True
    summary: Sequence[tuple[str, Any]] | None = None
    figures: Sequence[tuple[Any, str]] = ()
    message: str = ""
    extra_files: Mapping[str, Any] | None = None


@dataclasses.dataclass(frozen=True)
class Verb:
    """One verb of a theory: its config schema and its compute function.

    ``compute(config, **options)`` receives the validated config and the verb's options (``out``,
    ``resume``, ``scheduler`` for grid verbs; e.g. ``alphas`` or ``quick``), and returns a
    :class:`VerbOutput`.  ``options`` names the options the verb accepts (anything else is refused).
    """

    schema: type
    compute: Callable[..., VerbOutput]
    options: tuple[str, ...] = ()
    grid: bool = False  # writes a points/ grid: --resume and --scheduler apply


def summary_rows(result: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The scalar entries of a result record, as (label, value) rows."""
    return [(k, v) for k, v in result.items() if isinstance(v, (bool, int, float, str)) or v is None]
