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
    "read_npz",
    "npz_headers",
    "check_arrays",
    "RunDirLock",
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


def _umask() -> int:
    """The process's umask (read without changing it where /proc says it)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    m = os.umask(0o022)
    os.umask(m)
    return m


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file + ``os.replace``), with the permissions
    any new file of the user gets (``0666 & ~umask``), not ``mkstemp``'s private 0600."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o666 & ~_umask())
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


def check_arrays(arrays: Mapping[str, Any], *, where: str = "arrays.npz") -> dict[str, np.ndarray]:
    """The arrays as numpy arrays; a non-finite entry or a Python-object array raises
    :class:`NonFiniteError` / ``TypeError`` naming the array."""
    clean = {}
    for k, v in arrays.items():
        a = np.asarray(v)
        if a.dtype.hasobject:
            raise TypeError(f"array '{k}' of {where} holds Python objects; only numeric arrays are written")
        if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
            raise NonFiniteError(f"non-finite entries in array '{k}' of {where}")
        clean[k] = a
    return clean


def atomic_save_npz(path: str | Path, arrays: Mapping[str, Any], *, compressed: bool = True) -> Path:
    """Save arrays to an NPZ file atomically; refuses NaN/inf (:class:`NonFiniteError` naming the array)."""
    buf = _io.BytesIO()
    clean = check_arrays(arrays, where=Path(path).name)
    (np.savez_compressed if compressed else np.savez)(buf, **clean)
    return atomic_write_bytes(path, buf.getvalue())


LOCK_FILE = ".statmech_attn.lock"


def _out_error(p: Path, e: OSError) -> InputError:
    return InputError("--out", str(p), f"cannot be used as a run directory ({e.strerror or e.__class__.__name__})")


def _run_dir_entries(p: Path) -> list[Path]:
    return [c for c in p.iterdir() if c.name != LOCK_FILE]


def prepare_run_dir(path: str | Path, *, force: bool = False, resume: bool = False) -> Path:
    """Create or check an output directory.

    A non-empty directory is refused unless ``force`` (start over: its contents are removed, only
    if it looks like a run directory) or ``resume`` (kept as it is; the verb computes what is
    missing).  A path the operating system refuses (a name too long, a parent that is a file, a
    dangling symlink, a folder under ``/proc``) is an ``InputError`` on ``--out``.
    """
    p = Path(path)
    try:
        if p.is_symlink() and not p.exists():
            raise InputError("--out", str(p), "is a dangling symbolic link; give a folder that exists or can be created")
        if p.exists() and not p.is_dir():
            raise InputError("--out", str(p), "exists and is not a directory")
        if p.is_dir() and _run_dir_entries(p):
            if resume:
                return p
            if not force:
                raise InputError("--out", str(p), "is not empty; pass --force to start over or --resume to continue")
            if not any((p / m).exists() for m in RUN_MARKERS):
                raise InputError("--out", str(p), "is not empty and is not a statmech_attn run directory; refusing to clear it")
            for child in _run_dir_entries(p):
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        p.mkdir(parents=True, exist_ok=True)
        if not os.access(p, os.W_OK | os.X_OK):
            raise InputError("--out", str(p), "is not writable")
    except OSError as e:
        raise _out_error(p, e) from None
    return p


class RunDirLock:
    """An exclusive lock on a run directory, held for the whole run (``flock`` on ``DIR/.statmech_attn.lock``).

    A second run on the same directory is refused (``InputError`` on ``--out`` naming the lock);
    a lock left by a killed process is free again (the kernel drops it with the process).  The
    directory is created if absent; :meth:`release` removes the lock file and, when ``cleanup``,
    a directory this run created (or the files this run wrote into a directory that was empty).
    """

    def __init__(self, path: str | Path):
        import fcntl

        self.path = Path(path)
        try:
            self.created = not self.path.exists() and not self.path.is_symlink()
            if self.path.is_symlink() and not self.path.exists():
                raise InputError("--out", str(self.path), "is a dangling symbolic link; give a folder that exists or can be created")
            if self.path.exists() and not self.path.is_dir():
                raise InputError("--out", str(self.path), "exists and is not a directory")
            self.path.mkdir(parents=True, exist_ok=True)
            self.lock_path = self.path / LOCK_FILE
            while True:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    try:
                        holder = self.lock_path.read_text(encoding="utf-8", errors="replace").strip()[:40]
                    except OSError:
                        holder = ""
                    raise InputError("--out", str(self.path), f"is in use by another run (lock {self.lock_path} held"
                                     + (f" by process {holder}" if holder.isdigit() else "") + "); wait for it or use another --out") from None
                try:  # the holder before us may have removed the file between our open and our lock
                    same = os.fstat(fd).st_ino == os.stat(self.lock_path).st_ino
                except FileNotFoundError:
                    same = False
                if same:
                    break
                os.close(fd)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self.fd = fd
            self.was_empty = not _run_dir_entries(self.path)
        except OSError as e:
            raise _out_error(self.path, e) from None

    def release(self, *, cleanup: bool = False) -> None:
        """Unlock; with ``cleanup`` remove what this run left (a directory it created, or the contents of
        a directory that was empty when the run began)."""
        fd, self.fd = getattr(self, "fd", None), None
        if fd is None:
            return
        try:
            if cleanup and self.was_empty:
                if self.created:
                    shutil.rmtree(self.path, ignore_errors=True)
                else:
                    for child in _run_dir_entries(self.path):
                        if child.is_dir() and not child.is_symlink():
                            shutil.rmtree(child, ignore_errors=True)
                        else:
                            child.unlink(missing_ok=True)
            if self.path.exists():
                self.lock_path.unlink(missing_ok=True)
        finally:
            os.close(fd)


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
    """The ``result.json`` record (docs/getting-started.md) (plain JSON values)."""
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
    if arrays:  # arrays are checked like result.json: NaN/inf refused (a failed run drops those arrays)
        arrays = {k: v for k, v in arrays.items() if nonfinite != "null" or _finite(v)}
        arrays = check_arrays(arrays)
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


def _finite(v: Any) -> bool:
    a = np.asarray(v)
    return a.dtype.kind not in "fc" or bool(np.all(np.isfinite(a)))


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
        record = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, OSError) as e:
        raise InputError("run_dir", str(p), f"is not valid JSON ({e.__class__.__name__}); the run folder is damaged") from None
    if not isinstance(record, dict) or not isinstance(record.get("result", {}), dict):
        raise InputError("run_dir", str(p), "is not a statmech_attn result record (damaged run folder)")
    return record


def read_arrays(run_dir: str | Path) -> dict[str, np.ndarray]:
    """Read ``arrays.npz`` of a run directory (empty dict if none), checked as :func:`read_npz`."""
    p = Path(run_dir) / "arrays.npz"
    if not p.is_file():
        return {}
    return read_npz(p, "run_dir")


_NPY_KINDS = "biufcUS"  # numbers and fixed-width text (labels); never objects


def npz_headers(path: str | Path, param: str) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """``{array name: (shape, dtype)}`` of an NPZ file, from each member's ``.npy`` header, decompressing
    nothing beyond the headers.

    Refused (``InputError`` naming ``param`` and the array): a file that is not a regular file or
    not a zip archive, a member that is not an ``.npy`` array, Python objects (pickles), text or
    structured dtypes, a member shorter than its header declares, arrays declaring more than
    :func:`statmech_attn.config.memory_limit` bytes in all.
    """
    import zipfile

    from numpy.lib import format as npf

    from ._resources import _human, memory_limit
    from .config import regular_file

    p = regular_file(path, param)
    out: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    limit = memory_limit()
    total = 0
    try:
        with zipfile.ZipFile(p) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                if not info.filename.endswith(".npy"):
                    raise InputError(param, str(p), f"member '{info.filename}' is not an .npy array")
                name = info.filename[:-4]
                with zf.open(info) as f:
                    version = npf.read_magic(f)
                    if version == (1, 0):
                        shape, fortran, dtype = npf.read_array_header_1_0(f, max_header_size=10000)
                    elif version in ((2, 0), (3, 0)):
                        shape, fortran, dtype = npf._read_array_header(f, version, max_header_size=10000)
                    else:
                        raise InputError(param, str(p), f"array '{name}' has an unknown .npy version {version}")
                    header_len = f.tell()
                if dtype.hasobject:
                    raise InputError(param, str(p), f"array '{name}' holds Python objects (dtype {dtype}); "
                                     "only numeric arrays are read (pickles are never loaded)")
                if dtype.kind not in _NPY_KINDS or dtype.fields is not None:
                    raise InputError(param, str(p), f"array '{name}' has dtype {dtype}; only numeric (or text) arrays are read")
                size = float(dtype.itemsize)
                for n in shape:
                    size *= n
                total += size
                if total > limit:
                    raise InputError(param, str(p), f"array '{name}' of shape {tuple(shape)} declares {_human(size)}, "
                                     f"above the memory limit of {_human(limit)} (STATMECH_ATTN_MAX_MEMORY)")
                if info.file_size < header_len + size:
                    raise InputError(param, str(p), f"array '{name}' is truncated (its header declares shape {tuple(shape)})")
                out[name] = (tuple(shape), dtype)
    except InputError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, SyntaxError) as e:
        raise InputError(param, str(p), f"is not a readable NPZ file ({e.__class__.__name__})") from None
    return out


def read_npz(path: str | Path, param: str) -> dict[str, np.ndarray]:
    """Every array of an NPZ file, headers checked first (:func:`npz_headers`), never unpickling."""
    npz_headers(path, param)
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: np.asarray(z[k]) for k in z.files}
    except Exception as e:  # noqa: BLE001 - any reader failure is the file's
        raise InputError(param, str(path), f"is not a readable NPZ file ({e.__class__.__name__})") from None


def save_figure(fig: Any, out_dir: str | Path, stem: str, formats: Iterable[str] = ("png", "pdf")) -> list[Path]:
    """Save a matplotlib figure as ``stem.png`` (200 dpi) and ``stem.pdf`` atomically, cropped to its content.

    The figure's layout (constrained layout, say) and its tight bounding box are computed once for every
    format: ``savefig(bbox_inches="tight")`` would lay the figure out and draw it twice per format.
    """
    import matplotlib

    def set_engine(engine: Any) -> None:  # None means no engine, whatever the rcParams say
        with matplotlib.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
            fig.set_layout_engine(engine)

    fig.draw_without_rendering()  # runs the layout engine once
    engine = fig.get_layout_engine()
    set_engine(None)  # keep that layout: each format below is drawn once
    try:
        bbox = fig.get_tightbbox().padded(matplotlib.rcParams["savefig.pad_inches"])
        paths = []
        for fmt in formats:
            buf = _io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=200 if fmt == "png" else None, bbox_inches=bbox)
            paths.append(atomic_write_bytes(Path(out_dir) / f"{stem}.{fmt}", buf.getvalue()))
    finally:
        set_engine(engine)
    return paths
