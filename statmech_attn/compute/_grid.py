"""Grids, points and tasks: the cartesian grid, one file per point, resume, and ``run_grid``."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import json
import re
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from .. import config as _config
from ..errors import InputError
from ..progress import quiet
from ._schedulers import (GRID_FILE, POINTS_DIR, ComputeConfig, Scheduler, _client, _run_dask, parse_scheduler,
                          resolve_scheduler)

# --------------------------------------------------------------------------------------------
# grids, points, tasks


def _coord(v: Any) -> Any:
    """A grid coordinate as a plain JSON scalar (int, float or str)."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    if isinstance(v, str):
        return v
    raise TypeError(f"grid coordinates must be numbers or strings, got {type(v).__name__}")


def _coord_text(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return repr(v)  # shortest round-trip form: 0.1, 1e-05
    return str(v)


#: a grid writes one file per point: more points than this is a typo, not a plan
MAX_GRID_POINTS = 1_000_000

_SAFE = re.compile(r"[A-Za-z0-9.+\-]+")


def point_key(point: Mapping[str, Any]) -> str:
    """File stem of a grid point: ``alpha=0.5_seed=3`` (a hash suffix if a value is not file-safe).

    Two different points never share a key: floats are written in their shortest round-trip form.
    """
    parts = []
    hashed = False
    for name, v in point.items():
        text = _coord_text(_coord(v))
        if not _SAFE.fullmatch(text):
            hashed = True
            text = re.sub(r"[^A-Za-z0-9.+\-]", "-", text)[:24]
        parts.append(f"{name}={text}")
    key = "_".join(parts)
    if hashed or len(key) > 160:
        digest = hashlib.sha256(json.dumps(dict(point), sort_keys=True).encode()).hexdigest()[:12]
        key = key[:140] + "_" + digest
    return key


@dataclasses.dataclass(frozen=True)
class Grid:
    """A grid: named axes (ordered), the continuation axis and the chunk size.

    Points are the cartesian product of the axes in the order given (the last axis varies
    fastest).  A task is ``chunk`` consecutive values of ``along`` (sorted by value) with every
    other coordinate fixed; with ``along=None`` every point is its own task.  A ``seed`` axis, if present, is the
    seed handed to the task; otherwise the run's base seed is.

    Attributes:
        axes: ``((name, values), ...)``; values are numbers or strings, no repeats.
        along: the continuation axis (e.g. ``"alpha"``) or None.
        chunk: points per task along ``along``.
    """

    axes: tuple[tuple[str, tuple[Any, ...]], ...]
    along: str | None = None
    chunk: int = 10

    def __post_init__(self) -> None:
        axes = tuple((str(n), tuple(_coord(v) for v in vals)) for n, vals in
                     (self.axes.items() if isinstance(self.axes, Mapping) else self.axes))
        object.__setattr__(self, "axes", axes)
        names = [n for n, _ in axes]
        if not axes:
            raise InputError("grid", "no axes", "a grid needs at least one axis")
        if len(set(names)) != len(names):
            raise InputError("grid", names, "axis names must be distinct")
        for n, vals in axes:
            if len(vals) == 0:
                raise InputError(n, [], "must list at least one value")
            if len(set(vals)) != len(vals):
                dup = next(v for v in vals if vals.count(v) > 1)
                raise InputError(n, dup, "appears twice; grid values must be distinct")
        n_points = 1
        for _, vals in axes:
            n_points *= len(vals)
        if n_points > MAX_GRID_POINTS:
            big = max(axes, key=lambda a: len(a[1]))
            raise InputError(big[0], f"{len(big[1])} values", f"the grid would have {n_points} points; at most "
                             f"{MAX_GRID_POINTS} (one file each): use fewer values")
        if self.along is not None and self.along not in names:
            raise InputError("grid.along", self.along, "must be one of the axes " + ", ".join(names))
        if self.along == "seed":
            raise InputError("grid.along", self.along, "continuation runs along a control parameter, not the seed")
        if self.chunk < 1:
            raise InputError("compute.chunk", self.chunk, "must be an integer >= 1")

    @classmethod
    def of(cls, along: str | None = None, chunk: int = 10, **axes: Sequence[Any]) -> "Grid":
        """``Grid.of(along="alpha", alpha=[...], seed=[0, 1])``."""
        return cls(tuple((n, tuple(v)) for n, v in axes.items()), along=along, chunk=chunk)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.axes)

    def points(self) -> list[dict[str, Any]]:
        """Every grid point, in product order (last axis fastest)."""
        names = self.names
        return [dict(zip(names, combo)) for combo in itertools.product(*(v for _, v in self.axes))]

    def chunks(self) -> list[list[dict[str, Any]]]:
        """The tasks of the full grid: lists of neighbouring points along ``along`` (in increasing value)."""
        if self.along is None:
            return [[p] for p in self.points()]
        along_vals = dict(self.axes)[self.along]
        if all(isinstance(v, (int, float)) for v in along_vals):
            along_vals = tuple(sorted(along_vals))  # neighbours in value, whatever order was given
        others = [(n, v) for n, v in self.axes if n != self.along]
        out = []
        for combo in itertools.product(*(v for _, v in others)):
            fixed = dict(zip((n for n, _ in others), combo))
            for start in range(0, len(along_vals), self.chunk):
                out.append([_ordered({**fixed, self.along: a}, self.names)
                            for a in along_vals[start:start + self.chunk]])
        return out


def _ordered(point: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    return {n: point[n] for n in names}


@dataclasses.dataclass
class PointOutput:
    """What a task function returns for one point.

    Attributes:
        record: JSON-able values of the point (``result``, ``residual``, order parameters...).
        arrays: arrays saved in ``points/<key>.npz`` (optional).
        ok: False when the point's solver failed (it is recorded all the same).
    """

    record: Mapping[str, Any]
    arrays: Mapping[str, Any] | None = None
    ok: bool = True


@dataclasses.dataclass(frozen=True)
class PointRecord:
    """A finished point, as read back from its file (or kept in memory without a run directory).

    Attributes:
        key: file stem.
        point: the grid coordinates.
        seed: the seed its task received.
        ok: False when its solver failed or its task raised.
        record: the task's values for the point.
        arrays: its arrays ({} if none).
        error: the exception text when the task raised, else None.
    """

    key: str
    point: Mapping[str, Any]
    seed: int
    ok: bool
    record: Mapping[str, Any]
    arrays: Mapping[str, np.ndarray]
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class GridResult:
    """Every point of a grid, in grid order, plus what this call computed.

    Attributes:
        points: one :class:`PointRecord` per grid point.
        tasks_run: tasks executed by this call (0 when a resume found everything present).
        computed: points computed by this call.
        scheduler: the scheduler used.
    """

    points: tuple[PointRecord, ...]
    tasks_run: int
    computed: int
    scheduler: str

    @property
    def ok(self) -> bool:
        """True when every point succeeded."""
        return all(p.ok for p in self.points)

    @property
    def n_failed(self) -> int:
        return sum(not p.ok for p in self.points)

    def column(self, name: str, default: Any = None) -> list[Any]:
        """``record[name]`` of every point, in grid order (``default`` where absent)."""
        return [p.record.get(name, default) for p in self.points]

    def coordinate(self, name: str) -> list[Any]:
        """The grid coordinate ``name`` of every point, in grid order."""
        return [p.point[name] for p in self.points]

    def stacked(self, name: str) -> np.ndarray:
        """``arrays[name]`` of every point stacked along a new first axis (NaN where absent)."""
        present = [p.arrays[name] for p in self.points if name in p.arrays]
        if not present:
            raise KeyError(name)
        shape, dtype = np.shape(present[0]), np.result_type(present[0], np.float64)
        return np.stack([np.asarray(p.arrays[name]) if name in p.arrays else np.full(shape, np.nan, dtype)
                         for p in self.points])


# --------------------------------------------------------------------------------------------
# the task wrapper (runs in this process or on a dask worker)


def _run_task(task_fn: Callable[..., Sequence[Any]], context: Any, points: Sequence[Mapping[str, Any]],
              seed: int) -> list[dict[str, Any]]:
    """Run one task; solver failures and exceptions become failed point records, never a crash.

    ``InputError`` (a user's mistake) and ``KeyboardInterrupt`` propagate.
    """
    try:
        outs = list(task_fn(context, [dict(p) for p in points], seed))
        if len(outs) != len(points):
            raise RuntimeError(f"task returned {len(outs)} outputs for {len(points)} points")
        rows = []
        for o in outs:
            if not isinstance(o, PointOutput):
                rec = dict(o)
                o = PointOutput(rec, None, ok=str(rec.get("result", "converged")) == "converged")
            rows.append({"record": dict(o.record), "arrays": dict(o.arrays or {}), "ok": bool(o.ok), "error": None})
        return rows
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - a failing point is recorded and the grid goes on
        from .._solution import SolverError  # here, not at the top: a config check imports no JAX

        if isinstance(e, SolverError):
            sol = e.solution
            rec = {"result": str(sol.result), "residual": sol.residual, "iterations": sol.iterations}
            return [{"record": rec, "arrays": {}, "ok": False, "error": str(e)} for _ in points]
        msg = f"{type(e).__name__}: {e}"
        return [{"record": {"result": "error"}, "arrays": {}, "ok": False, "error": msg} for _ in points]


# --------------------------------------------------------------------------------------------
# run directory: points/<key>.json (+ .npz), points/_grid.json


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, Mapping):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: d}


def _identity_hash(identity: Any) -> str:
    text = json.dumps(identity, sort_keys=True, allow_nan=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _jsonable_identity(identity: Any) -> Any:
    from ..io import to_jsonable

    if dataclasses.is_dataclass(identity) and not isinstance(identity, type):
        identity = _config.to_toml_dict(identity)
    return to_jsonable(identity, nonfinite="null")


def _check_identity(points_dir: Path, identity: Any, resume: bool) -> None:
    """Refuse a resume whose non-grid config differs from the one the points were computed with."""
    gfile = points_dir / GRID_FILE
    if not gfile.is_file():
        return
    if not resume:
        raise InputError("--out", str(points_dir.parent),
                         "already holds grid points; pass --resume to continue or --force to start over")
    try:
        old = json.loads(gfile.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError("--out", str(gfile), f"{POINTS_DIR}/{GRID_FILE} is not a readable grid record "
                         f"({e.__class__.__name__}): it is damaged; start over with --force or use a new --out") from None
    if not (isinstance(old, dict) and isinstance(old.get("hash"), str) and isinstance(old.get("config", {}), dict)):
        raise InputError("--out", str(gfile), f"{POINTS_DIR}/{GRID_FILE} is damaged (not a grid record with 'hash' "
                         "and 'config'); start over with --force or use a new --out")
    if old.get("hash") == _identity_hash(identity):
        return
    old_flat, new_flat = _flatten(old.get("config", {})), _flatten(identity)
    changed = sorted(k for k in set(old_flat) | set(new_flat) if old_flat.get(k, "<unset>") != new_flat.get(k, "<unset>"))
    key = changed[0] if changed else "config"
    raise InputError(key, new_flat.get(key, "<unset>"),
                     f"differs from {old_flat.get(key, '<unset>')!r} used for the points already in "
                     f"{points_dir.parent}; a resumed grid may change only its grid values "
                     "(start over with --force, or use a new --out)")


#: keys of a point's record that measure time: kept in ``points/_timing/<key>.json``, out of the compared
#: content, so that a resumed grid's point files are byte-identical to an uninterrupted run's
TIMING_DIR = "_timing"
TIMING_KEYS = frozenset({"wall_time_s", "wall_time", "sweep_wall_time_s", "steps_per_second", "elapsed_s"})


def _split_timing(record: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    content = {k: v for k, v in record.items() if k not in TIMING_KEYS}
    timing = {k: v for k, v in record.items() if k in TIMING_KEYS}
    return content, timing


class DamagedPoint(Exception):
    """A point file that cannot be read back (its point is recomputed)."""


def _warn(message: str) -> None:
    import sys

    print(f"warning: {message}", file=sys.stderr)


def _read_point(points_dir: Path, key: str, *, warn: bool = False) -> PointRecord | None:
    """A point's record from its file, or None if it is absent or was written by a failed task.

    A damaged file (not JSON, missing fields, a bad NPZ) is None too, with one warning line on stderr
    when ``warn``: its point is recomputed.
    """
    jf = points_dir / f"{key}.json"
    if not jf.is_file():
        return None
    try:
        return _parse_point(points_dir, key, jf)
    except DamagedPoint as e:
        if warn:
            _warn(f"{jf} is damaged ({e}); its point is recomputed")
        return None


def _parse_point(points_dir: Path, key: str, jf: Path) -> PointRecord:
    try:
        d = json.loads(jf.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DamagedPoint(e.__class__.__name__) from None
    if not (isinstance(d, dict) and isinstance(d.get("point"), dict) and isinstance(d.get("seed"), int)
            and not isinstance(d.get("seed"), bool) and isinstance(d.get("ok"), bool)
            and isinstance(d.get("record", {}), dict) and (d.get("error") is None or isinstance(d.get("error"), str))):
        raise DamagedPoint("not a point record")
    arrays: dict[str, np.ndarray] = {}
    if d.get("has_arrays"):
        nf = points_dir / f"{key}.npz"
        if not nf.is_file():
            raise DamagedPoint(f"{nf.name} is missing")
        from ..io import read_npz

        try:
            arrays = read_npz(nf, "point")
        except InputError as e:
            raise DamagedPoint(f"{nf.name}: {e.allowed}") from None
    timing: dict[str, Any] = {}
    tf = points_dir / TIMING_DIR / f"{key}.json"
    if tf.is_file():
        try:
            t = json.loads(tf.read_text(encoding="utf-8"))
            timing = {k: v for k, v in t.items() if k in TIMING_KEYS} if isinstance(t, dict) else {}
        except (OSError, ValueError):
            timing = {}  # timing is not content: a damaged timing file costs nothing
    return PointRecord(key=key, point=d["point"], seed=int(d["seed"]), ok=bool(d["ok"]),
                       record={**d.get("record", {}), **timing}, arrays=arrays, error=d.get("error"))


def _write_point(points_dir: Path | None, key: str, point: Mapping[str, Any], seed: int,
                 row: Mapping[str, Any]) -> PointRecord:
    """Write one point atomically (arrays first, then the JSON that marks it done)."""
    from ..io import NonFiniteError, atomic_save_npz, atomic_write_json, to_jsonable

    ok, error, record = bool(row["ok"]), row["error"], dict(row["record"])
    try:
        rec_json = to_jsonable(record, nonfinite="error" if ok else "null")
    except NonFiniteError as e:
        ok, error = False, f"non-finite value: {e}"
        rec_json = to_jsonable(record, nonfinite="null")
    arrays = {k: np.asarray(v) for k, v in row["arrays"].items()}
    bad = [k for k, a in arrays.items() if a.dtype.kind in "fc" and not np.all(np.isfinite(a))]
    if bad:  # nothing non-finite is written: the arrays are dropped and the point counts as failed
        ok, error = False, error or f"non-finite value: array '{bad[0]}'"
        arrays = {k: a for k, a in arrays.items() if k not in bad}
    content, timing = _split_timing(rec_json)
    doc = {"point": dict(point), "seed": seed, "ok": ok, "error": error, "has_arrays": bool(arrays),
           "record": content}
    if points_dir is not None:
        if arrays:
            atomic_save_npz(points_dir / f"{key}.npz", arrays)
        if timing:
            atomic_write_json(points_dir / TIMING_DIR / f"{key}.json", timing, nonfinite="null")
        atomic_write_json(points_dir / f"{key}.json", doc, nonfinite="null")
        # read back: result.json is assembled from the files, so memory and disk cannot disagree
        back = _read_point(points_dir, key)
        assert back is not None
        return back
    return PointRecord(key=key, point=dict(point), seed=seed, ok=ok,
                       record=json.loads(json.dumps(rec_json)), arrays=arrays, error=error)


# --------------------------------------------------------------------------------------------
# the driver


def run_grid(task_fn: Callable[..., Sequence[Any]], context: Any, grid: Grid, *,
             out: str | Path | None = None, resume: bool = False, identity: Any = None,
             scheduler: Scheduler | str | None = None, seed: int = 0,
             description: str = "grid points") -> GridResult:
    """Compute every point of ``grid`` with ``task_fn`` (see the module docstring).

    Args:
        task_fn: ``task_fn(context, points, seed) -> [PointOutput | dict]``; a module-level
            function (workers import it by name) that is pure in its arguments.
        context: picklable input shared by every task (sent to each worker once).
        grid: the axes, continuation axis and chunk size.
        out: run directory; points go to ``out/points/``.  None: keep results in memory.
        resume: compute only points whose files are missing (or whose task raised).
        identity: the resolved config *minus the grid and [compute]* (a mapping or config
            dataclass); a resume with a different one is refused naming the changed key.
        scheduler: a :class:`Scheduler` or its text; default ``serial``.
        seed: the seed handed to tasks when the grid has no ``seed`` axis.

    Raises:
        InputError: a changed non-grid config on resume, an unreachable scheduler.
        KeyboardInterrupt: after closing the workers; every file written is complete.
    """
    sched = scheduler if isinstance(scheduler, Scheduler) else parse_scheduler(scheduler or "serial", param="--scheduler")
    if sched.kind == "local" and sched.workers == 0:
        sched = resolve_scheduler(ComputeConfig(scheduler="local"))
    ident = _jsonable_identity(identity if identity is not None else {})
    points_dir: Path | None = None
    done: dict[str, PointRecord] = {}
    if out is not None:
        points_dir = Path(out) / POINTS_DIR
        _check_identity(points_dir, ident, resume)
        if resume and points_dir.is_dir():
            for p in grid.points():
                k = point_key(p)
                rec = _read_point(points_dir, k, warn=True)
                if rec is not None and rec.error is None:
                    done[k] = rec

    tasks: list[tuple[list[dict[str, Any]], int]] = []
    for chunk in grid.chunks():
        todo = [p for p in chunk if point_key(p) not in done]
        if todo:
            task_seed = int(todo[0]["seed"]) if "seed" in todo[0] else int(seed)
            tasks.append((todo, task_seed))

    n_todo = sum(len(t) for t, _ in tasks)
    finished: dict[str, PointRecord] = dict(done)
    with contextlib.ExitStack() as stack:
        client = None
        if sched.kind != "serial" and tasks:  # reach the scheduler before anything is written
            client = stack.enter_context(_client(sched))
        if points_dir is not None:
            from ..io import atomic_write_json

            points_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_json(points_dir / GRID_FILE, {
                "config": ident, "hash": _identity_hash(ident),
                "axes": {n: list(v) for n, v in grid.axes}, "along": grid.along, "chunk": grid.chunk,
            })
        events = (_run_serial(task_fn, context, tasks) if client is None
                  else _run_dask(task_fn, context, tasks, sched, _run_task, client=client))
        for points, task_seed, rows in _progress(events, n_todo, description):
            for p, row in zip(points, rows):
                k = point_key(p)
                finished[k] = _write_point(points_dir, k, p, task_seed, row)

    ordered = tuple(finished[point_key(p)] for p in grid.points())
    return GridResult(points=ordered, tasks_run=len(tasks), computed=n_todo, scheduler=str(sched))


def _progress(events: Iterator[tuple[list[dict[str, Any]], int, list[dict[str, Any]]]],
              total: int, description: str) -> Iterator[tuple[list[dict[str, Any]], int, list[dict[str, Any]]]]:
    """Pass task results through, advancing a rich bar by points on a terminal (quiet in CI)."""
    if quiet() or total == 0:
        yield from events
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        tid = bar.add_task(description, total=total)
        for ev in events:
            yield ev
            bar.advance(tid, len(ev[0]))


def _run_serial(task_fn: Callable[..., Any], context: Any, tasks: list[tuple[list[dict[str, Any]], int]]
                ) -> Iterator[tuple[list[dict[str, Any]], int, list[dict[str, Any]]]]:
    for points, task_seed in tasks:
        yield points, task_seed, _run_task(task_fn, context, points, task_seed)


