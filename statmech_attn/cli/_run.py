"""The pipeline every verb shares, without typer: the command line and :func:`statmech_attn.run` both
call :func:`run_verb`, so a supplementary script gets exactly the record that ``--json`` prints.

A verb is found by convention: ``"<theory> <verb>"`` names ``VERBS[verb]`` in
``statmech_attn.<theory>.verbs`` or, for verbs that run finite networks,
``statmech_attn.validation.<theory>.verbs``; saved runs are re-plotted through their ``PLOTS``.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from .._verb import PlotFn, Verb, VerbOutput
from ..errors import InputError

THEORIES = ("paths", "potts", "energy", "oversmoothing", "factors", "theory")


def _import(name: str) -> Any:
    """The module ``name``, or None when it does not exist (the theory has no such module or package)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if not (e.name and (name == e.name or name.startswith(e.name + "."))):
            raise
        return None


def _modules(theory: str, *, first_with: tuple[str, str] | None = None) -> list[Any]:
    """The verbs modules of a theory: the numbers' and the finite networks' (``validation``).

    ``first_with=(table, key)`` stops at the first module whose ``table`` has ``key``, so ``paths solve``
    or ``paths plot`` of a solve run never imports the finite-network code (nor what it imports).
    """
    mods = []
    for name in (f"statmech_attn.{theory}.verbs", f"statmech_attn.validation.{theory}.verbs"):
        m = _import(name)
        if m is None:
            continue
        if first_with is not None and first_with[1] in getattr(m, first_with[0], {}):
            return [m]
        mods.append(m)
    return mods


def verbs_of(theory: str) -> dict[str, Verb]:
    """Every verb of a theory (numbers and validation)."""
    out: dict[str, Verb] = {}
    for m in _modules(theory):
        out.update(getattr(m, "VERBS", {}))
    return out


def lookup(command: str) -> tuple[str, str, Verb]:
    """``"paths solve"`` -> ("paths", "solve", the Verb); an unknown command is an InputError."""
    parts = str(command).split()
    if len(parts) != 2 or parts[0] not in THEORIES:
        raise InputError("command", command, "must be '<theory> <verb>' with theory one of " + ", ".join(THEORIES))
    theory, verb = parts
    table: dict[str, Verb] = {}
    for m in _modules(theory, first_with=("VERBS", verb)):
        table.update(getattr(m, "VERBS", {}))
    if verb not in table:
        raise InputError("command", command, f"'{theory}' has the verbs " + ", ".join(sorted(table)))
    return theory, verb, table[verb]


def plotters(theory: str) -> dict[str, PlotFn]:
    """verb -> function(record, arrays) -> [(figure, stem), ...] for saved runs of a theory."""
    out: dict[str, PlotFn] = {}
    for m in _modules(theory):
        out.update(getattr(m, "PLOTS", {}))
    return out


def load_spec(schema: type, config: str | Path | Mapping[str, Any], sets: Sequence[str] = ()) -> Any:
    """The validated spec of a config file (TOML) or mapping, with ``--set`` overrides applied."""
    from ..config import build, load_config, apply_overrides

    if isinstance(config, Mapping):
        return build(schema, apply_overrides(config, sets), base_dir=Path.cwd())
    return load_config(config, schema, sets)


def _sets(set: Mapping[str, Any] | Sequence[str] | None) -> list[str]:
    """``{"model.temperature": 0.1}`` or ``["model.temperature=0.1"]`` -> ``--set`` strings."""
    if set is None:
        return []
    if isinstance(set, Mapping):
        from ..config import toml_value

        return [f"{k}={toml_value(v)}" for k, v in set.items()]
    return [str(s) for s in set]


@dataclasses.dataclass
class VerbRun:
    """A finished verb: its spec, the compute function's output and the ``result.json`` record."""

    theory: str
    verb: str
    spec: Any
    output: VerbOutput
    record: dict[str, Any]


def run_verb(command: str, config: str | Path | Mapping[str, Any], *, sets: Sequence[str] = (),
             out: str | Path | None = None, force: bool = False, resume: bool = False,
             verb: Verb | None = None, **options: Any) -> VerbRun:
    """Load and validate the config, compute, and (with ``out``) write the run directory.

    ``options`` are the verb's own options (``alphas``, ``quick``, ``scheduler``); ``out``/``resume``
    are passed to grid verbs.  ``verb`` runs a :class:`Verb` that no theory lists (``command`` then
    only names it).  Raises ``InputError`` (bad input), ``SolverError``, ``NonFiniteError``.
    """
    from .. import io
    from ..config import to_toml_dict

    if verb is None:
        theory, verb_name, v = lookup(command)
    else:
        theory, verb_name, v = *str(command).split(maxsplit=1), verb
    allowed = set(v.options) | ({"scheduler"} if v.grid else set())
    given = {k: val for k, val in options.items() if val is not None}
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise InputError(unknown[0], given[unknown[0]], f"is not an option of '{command}'"
                         + (f"; its options: {', '.join(sorted(allowed))}" if allowed else ""))
    if resume and not v.grid:
        raise InputError("--resume", True, f"'{command}' computes no grid; --resume applies to grid verbs only")
    spec = load_spec(v.schema, config, sets)
    from ..config import check_resources

    check_resources(spec)  # refuse what cannot fit before anything is allocated or written
    lock = None
    if out is not None:
        lock = io.RunDirLock(out)  # held for the whole run: a second run on this --out is refused
    try:
        if out is not None:
            io.prepare_run_dir(out, force=force, resume=resume)
            lock.was_empty = not io._run_dir_entries(Path(out))
        output, seed, nonfinite = _compute_and_write(v, spec, theory, verb_name, out, resume, given)
    except KeyboardInterrupt:
        if lock is not None:
            lock.release()  # files already written are complete: kept for --resume
        raise
    except BaseException:
        if lock is not None:
            lock.release(cleanup=True)  # a failed fresh run leaves no partial run folder
        raise
    if lock is not None:
        lock.release()
    record = io.result_record(theory, verb_name, seed, None, output.result, nonfinite=nonfinite)
    record["config"] = io.to_jsonable(to_toml_dict(spec), nonfinite="null")
    return VerbRun(theory, verb_name, spec, output, record)


def _compute_and_write(v: Verb, spec: Any, theory: str, verb_name: str, out: str | Path | None, resume: bool,
                       given: Mapping[str, Any]) -> tuple[VerbOutput, Any, str]:
    from .. import io

    kwargs = dict(given)
    if v.grid:
        kwargs.update(out=out, resume=resume)
    output = v.compute(spec, **kwargs)
    seed = getattr(spec, "seed", None)
    nonfinite = "error" if output.ok else "null"
    if out is not None:
        io.write_run(out, theory=theory, verb=verb_name, seed=seed, config=spec, result=output.result,
                     arrays=output.arrays, nonfinite=nonfinite)
        for name, obj in (output.extra_files or {}).items():
            io.atomic_write_json(Path(out) / name, obj, nonfinite=nonfinite)
        if output.figures:
            import matplotlib

            matplotlib.use("Agg")
            for fig, stem in output.figures:
                io.save_figure(fig, out, stem)
    elif output.arrays and output.ok:  # the same refusal with or without --out
        io.check_arrays(output.arrays)
    return output, seed, nonfinite


def run(command: str, config: str | Path | Mapping[str, Any], set: Mapping[str, Any] | Sequence[str] | None = None,
        out: str | Path | None = None, *, force: bool = False, resume: bool = False, **options: Any) -> dict[str, Any]:
    """The Python twin of the command line: ``run("paths solve", "examples/paths_hmm.toml",
    set={"model.temperature": 0.1})`` returns the record that ``statmech-attn paths solve
    examples/paths_hmm.toml --set model.temperature=0.1 --json`` prints (same keys, same numbers).

    Args:
        command: ``"<theory> <verb>"``, e.g. ``"paths sweep"``.
        config: a TOML file or a mapping with the same tables and keys.
        set: overrides, ``{"model.temperature": 0.1}`` or ``["model.temperature=0.1"]``.
        out: write the run directory there too (as ``--out``).
        force, resume: as ``--force`` / ``--resume``.
        options: the verb's options, e.g. ``alphas=[0.1, 1.0]`` (``paths sweep``, ``potts replica``),
            ``quick=True`` (``paths validate``), ``scheduler="local:2"`` (grid verbs).

    Returns:
        The ``result.json`` record as plain JSON values (``result["result"]`` holds the verb's result).
        A run that did not converge is returned too: read ``record["result"]`` (its ``converged`` or
        ``passed`` entries).
    """
    r = run_verb(command, config, sets=_sets(set), out=out, force=force, resume=resume, **options)
    return json.loads(json.dumps(r.record, allow_nan=False))


@dataclasses.dataclass(frozen=True)
class RunFolder:
    """A run directory read back: the ``result.json`` record, the resolved config and the arrays."""

    path: Path
    record: dict[str, Any]
    config: dict[str, Any]
    arrays: dict[str, Any]

    @property
    def result(self) -> dict[str, Any]:
        """The verb's result (``record["result"]``)."""
        return self.record.get("result", {})


def load_run(run_dir: str | Path) -> RunFolder:
    """Read a run directory written with ``--out`` (or ``run(..., out=...)``): record, config, arrays."""
    from .. import io
    from ..config import load_toml

    p = Path(run_dir)
    record = io.read_result(p)
    config = load_toml(p / "config.toml") if (p / "config.toml").is_file() else dict(record.get("config") or {})
    return RunFolder(path=p, record=record, config=config, arrays=io.read_arrays(p))


def plot_figures(theory: str, run_dir: str | Path) -> tuple[list[tuple[Any, str]], RunFolder]:
    """The figures of a saved run (no recomputation), dispatched on the verb in its record."""
    folder = load_run(run_dir)
    if folder.record.get("theory") != theory:
        raise InputError("run_dir", str(run_dir), f"holds a '{folder.record.get('theory')}' run, expected '{theory}'")
    verb = folder.record.get("verb")
    table: dict[str, PlotFn] = {}
    for m in _modules(theory, first_with=("PLOTS", verb)):
        table.update(getattr(m, "PLOTS", {}))
    if verb not in table:
        raise InputError("run_dir", verb, f"holds a {theory} run of a verb without figures; plottable: "
                         + ", ".join(sorted(table)))
    return list(table[verb](folder.record, folder.arrays)), folder
