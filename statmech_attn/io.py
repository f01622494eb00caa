"""Run directories: atomic writes, ``result.json``, ``arrays.npz``, provenance.

A run directory holds ``config.toml`` (the resolved config, all defaults filled),
``result.json`` (``{"statmech_attn_version", "theory", "verb", "created", "seed", "config",
"environment", "result"}``), ``arrays.npz`` for large arrays and figures.  Every file is written
atomically (temporary file in the same folder, then ``os.replace``), so an interrupted run never
leaves a half-written file.  Every float in ``result.json`` is finite, or the write is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import io as _io
import json
import math
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from ._version import __version__
from .errors import InputError

__all__ = [
    "NonFiniteError",
    "to_jsonable",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_json",
    "atomic_save_npz",
    "prepare_run_dir",
    "result_record",
    "write_run",
    "read_result",
    "read_arrays",
    "environment",
    "save_figure",
]

RUN_MARKERS = ("result.json", "config.toml", "points")


class NonFiniteError(ValueError):
    """A NaN or inf would have been written to a result file."""


def to_jsonable(obj: Any, *, nonfinite: str = "error", _path: str = "result") -> Any:
    """Convert numbers, arrays, enums, dataclasses and mappings to plain JSON values.

    Args:
        nonfinite: ``"error"`` raises :class:`NonFiniteError` on NaN/inf (naming where);
            ``"null"`` writes them as ``null`` (used only for records of failed runs).
    """
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if not math.isfinite(x):
            if nonfinite == "null":
                return None
            raise NonFiniteError(f"non-finite value {x} at {_path}")
        return x
    if isinstance(obj, str) or obj is None:
        return obj
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "__array__") and not isinstance(obj, (list, tuple)):
        arr = np.asarray(obj)
        if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
            if nonfinite != "null":
                raise NonFiniteError(f"non-finite entries at {_path}")
        if arr.dtype.kind == "c":
            return {"real": to_jsonable(arr.real, nonfinite=nonfinite, _path=_path),
                    "imag": to_jsonable(arr.imag, nonfinite=nonfinite, _path=_path)}
        if arr.ndim == 0:
            return to_jsonable(arr.item(), nonfinite=nonfinite, _path=_path)
        return [to_jsonable(v, nonfinite=nonfinite, _path=f"{_path}[{i}]") for i, v in enumerate(arr.tolist())]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "to_dict"):
            return to_jsonable(obj.to_dict(), nonfinite=nonfinite, _path=_path)
        return {f.name: to_jsonable(getattr(obj, f.name), nonfinite=nonfinite, _path=f"{_path}.{f.name}")
                for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v, nonfinite=nonfinite, _path=f"{_path}.{k}") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v, nonfinite=nonfinite, _path=f"{_path}[{i}]") for i, v in enumerate(obj)]
    if hasattr(obj, "to_dict"):
        return to_jsonable(obj.to_dict(), nonfinite=nonfinite, _path=_path)
    raise TypeError(f"cannot write {type(obj).__name__} at {_path} to JSON")


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file + ``os.replace``)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return p


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write text atomically (UTF-8)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any, *, nonfinite: str = "error") -> Path:
    """Write ``obj`` as indented JSON atomically; refuses NaN/inf unless ``nonfinite="null"``."""
    text = json.dumps(to_jsonable(obj, nonfinite=nonfinite), indent=2, allow_nan=False)
    return atomic_write_text(path, text + "\n")


def atomic_save_npz(path: str | Path, arrays: Mapping[str, Any], *, compressed: bool = True) -> Path:
    """Save arrays to an NPZ file atomically."""
    buf = _io.BytesIO()
    clean = {k: np.asarray(v) for k, v in arrays.items()}
    (np.savez_compressed if compressed else np.savez)(buf, **clean)
    return atomic_write_bytes(path, buf.getvalue())


def prepare_run_dir(path: str | Path, *, force: bool = False, resume: bool = False) -> Path:
    """Create or check an output directory.

    A non-empty directory is refused unless ``force`` (start over: its contents are removed, only
    if it looks like a run directory) or ``resume`` (kept as it is; the verb computes what is
    missing).
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError("--out", str(p), "exists and is not a directory")
    if p.is_dir() and any(p.iterdir()):
        if resume:
            return p
        if not force:
            raise InputError("--out", str(p), "is not empty; pass --force to start over or --resume to continue")
        if not any((p / m).exists() for m in RUN_MARKERS):
            raise InputError("--out", str(p), "is not empty and is not a statmech_attn run directory; refusing to clear it")
        for child in p.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    p.mkdir(parents=True, exist_ok=True)
    return p


def environment() -> dict[str, Any]:
    """Versions of Python and the numerical stack, for provenance."""
    env: dict[str, Any] = {"python": sys.version.split()[0], "platform": platform.platform()}
    for mod in ("jax", "numpy", "scipy", "sympy", "numpyro", "optax", "optimistix"):
        m = sys.modules.get(mod)
        if m is not None:
            env[mod] = getattr(m, "__version__", "?")
    return env


def result_record(theory: str, verb: str, seed: int | None, config: Mapping[str, Any] | None,
                  result: Mapping[str, Any], *, nonfinite: str = "error") -> dict[str, Any]:
    """The ``result.json`` record of DESIGN.md (plain JSON values)."""
    return {
        "statmech_attn_version": __version__,
        "theory": theory,
        "verb": verb,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "config": to_jsonable(config or {}, nonfinite="null"),
        "environment": environment(),
        "argv": list(sys.argv),
        "result": to_jsonable(result, nonfinite=nonfinite),
    }


def write_run(out: str | Path, *, theory: str, verb: str, seed: int | None, config: Any,
              result: Mapping[str, Any], arrays: Mapping[str, Any] | None = None,
              nonfinite: str = "error") -> Path:
    """Write ``config.toml``, ``arrays.npz`` (if any) and, last, ``result.json`` into ``out``.

    ``config`` is a config dataclass (written resolved) or a plain mapping.
    """
    import tomli_w

    from .config import to_toml_dict

    p = Path(out)
    p.mkdir(parents=True, exist_ok=True)
    record = result_record(theory, verb, seed, {}, result, nonfinite=nonfinite)  # validate before writing
    if config is not None:
        cfg_arrays: dict[str, dict[str, np.ndarray]] = {}
        cfg_dict = to_toml_dict(config, arrays=cfg_arrays) if dataclasses.is_dataclass(config) else dict(config)
        for fname, arrs in cfg_arrays.items():
            atomic_save_npz(p / fname, arrs)
        atomic_write_text(p / "config.toml", tomli_w.dumps(_toml_clean(cfg_dict)))
        record["config"] = to_jsonable(cfg_dict, nonfinite="null")
    if arrays:
        atomic_save_npz(p / "arrays.npz", arrays)
    atomic_write_json(p / "result.json", record, nonfinite=nonfinite)
    return p


def _toml_clean(d: Any) -> Any:
    if isinstance(d, Mapping):
        return {str(k): _toml_clean(v) for k, v in d.items() if v is not None}
    if isinstance(d, (list, tuple)):
        return [_toml_clean(v) for v in d]
    if isinstance(d, np.ndarray):
        return d.tolist()
    if isinstance(d, (np.floating, np.integer, np.bool_)):
        return d.item()
    return d


def read_result(run_dir: str | Path) -> dict[str, Any]:
    """Read ``result.json`` of a run directory (``InputError`` naming the directory if absent)."""
    p = Path(run_dir) / "result.json"
    if not p.is_file():
        raise InputError("run_dir", str(run_dir), "has no result.json (not a finished statmech_attn run)")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError("run_dir", str(p), f"is not valid JSON ({e})") from None


def read_arrays(run_dir: str | Path) -> dict[str, np.ndarray]:
    """Read ``arrays.npz`` of a run directory (empty dict if none)."""
    p = Path(run_dir) / "arrays.npz"
    if not p.is_file():
        return {}
    with np.load(p, allow_pickle=False) as z:
        return {k: np.asarray(z[k]) for k in z.files}


def save_figure(fig: Any, out_dir: str | Path, stem: str, formats: Iterable[str] = ("png", "pdf")) -> list[Path]:
    """Save a matplotlib figure as ``stem.png`` and ``stem.pdf`` atomically."""
    paths = []
    for fmt in formats:
        buf = _io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=200 if fmt == "png" else None, bbox_inches="tight")
        paths.append(atomic_write_bytes(Path(out_dir) / f"{stem}.{fmt}", buf.getvalue()))
    return paths
