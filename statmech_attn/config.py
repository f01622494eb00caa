"""TOML configs -> frozen dataclasses, every field validated here, once.

Each theory declares its schema as frozen dataclasses whose fields carry their checks
(:func:`field` with ``check=``).  :func:`load_config` reads the TOML file, applies ``--set``
overrides, and builds the schema; every mistake raises :class:`~statmech_attn.errors.InputError`
naming the dotted key, the value and what is allowed.  Unknown keys are errors.

Field types understood by :func:`build`:

- ``int``, ``float``, ``bool``, ``str`` (and ``Literal[...]`` of strings: a choice);
- ``tuple[float, ...]`` / ``tuple[int, ...]`` (a TOML list);
- ``numpy.ndarray`` (a matrix: inline nested list, or ``<key>_npz = "file.npz"`` naming an NPZ
  that holds the array under ``<key>``; relative paths are relative to the config file);
- ``X | None`` (omitted in the TOML = ``None``);
- a nested frozen dataclass (a TOML table).

String fields marked ``path=True`` are resolved relative to the config file's folder.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Sequence, TypeVar

import numpy as np

from .errors import InputError

C = TypeVar("C")

__all__ = [
    "field",
    "build",
    "load_toml",
    "apply_overrides",
    "load_config",
    "to_toml_dict",
    "positive",
    "nonnegative",
    "at_least",
    "all_positive",
    "all_at_least",
    "probability",
    "finite_matrix",
    "square_matrix",
    "symmetric_matrix",
    "load_npz_arrays",
    "numeric_array",
    "regular_file",
    "memory_limit",
    "check_memory",
    "check_resources",
    "nbytes",
    "MEMORY_ENV",
]


# --------------------------------------------------------------------------------------------
# field declarations and checks


def field(default: Any = dataclasses.MISSING, *, check: Callable[[Any], Any] | None = None,
          path: bool = False, doc: str = "", default_factory: Any = dataclasses.MISSING) -> Any:
    """A dataclass field with a validation hook.

    ``check(value)`` returns the (possibly normalised) value or raises ``InputError`` whose
    ``param`` is the empty string or a sub-key; :func:`build` prefixes the dotted field name.
    """
    meta = {"check": check, "path": path, "doc": doc}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def positive(v: Any) -> Any:
    """Check ``v > 0`` (finite)."""
    if not (math.isfinite(v) and v > 0):
        raise InputError("", v, "must be a finite number > 0")
    return v


def nonnegative(v: Any) -> Any:
    """Check ``v >= 0`` (finite)."""
    if not (math.isfinite(v) and v >= 0):
        raise InputError("", v, "must be a finite number >= 0")
    return v


def at_least(lo: float) -> Callable[[Any], Any]:
    """Check ``v >= lo``."""

    def check(v: Any) -> Any:
        if not (math.isfinite(v) and v >= lo):
            raise InputError("", v, f"must be >= {lo}")
        return v

    return check


def probability(v: Any) -> Any:
    """Check ``0 <= v <= 1``."""
    if not (math.isfinite(v) and 0 <= v <= 1):
        raise InputError("", v, "must be in [0, 1]")
    return v


def all_positive(v: Sequence[Any]) -> Any:
    """Check every entry of a non-empty list is finite and > 0."""
    if len(v) == 0:
        raise InputError("", list(v), "must be a non-empty list of numbers > 0")
    for x in v:
        if not (math.isfinite(x) and x > 0):
            raise InputError("", list(v), "every entry must be a finite number > 0")
    return v


def all_at_least(lo: float) -> Callable[[Any], Any]:
    """Check every entry of a non-empty list is >= lo."""

    def check(v: Sequence[Any]) -> Any:
        if len(v) == 0:
            raise InputError("", list(v), f"must be a non-empty list of numbers >= {lo}")
        for x in v:
            if not (math.isfinite(x) and x >= lo):
                raise InputError("", list(v), f"every entry must be >= {lo}")
        return v

    return check


def finite_matrix(a: np.ndarray) -> np.ndarray:
    """Check a 2-D array with finite entries."""
    if a.ndim != 2:
        raise InputError("", a.shape, "must be a 2-D matrix (nested list of rows)")
    if not np.all(np.isfinite(a)):
        raise InputError("", "NaN/inf", "every entry must be finite")
    return a


def square_matrix(a: np.ndarray) -> np.ndarray:
    """Check a finite square matrix."""
    a = finite_matrix(a)
    if a.shape[0] != a.shape[1]:
        raise InputError("", f"shape {a.shape}", "must be a square matrix")
    return a


def symmetric_matrix(a: np.ndarray) -> np.ndarray:
    """Check a finite symmetric matrix."""
    a = square_matrix(a)
    if not np.allclose(a, a.T, rtol=1e-12, atol=1e-12):
        raise InputError("", "non-symmetric matrix", "must be symmetric")
    return a


# --------------------------------------------------------------------------------------------
# reading


#: a config larger than this is refused before it is read (a TOML file of a few MiB is already huge)
MAX_CONFIG_BYTES = 16 * 1024**2


def regular_file(path: str | Path, param: str, *, max_bytes: int | None = None) -> Path:
    """``path`` if it names a regular file (after symlinks) of at most ``max_bytes``; else ``InputError``.

    A FIFO would block the read forever and ``/dev/zero`` never ends: both are refused from ``stat``,
    before anything is opened.
    """
    import stat as _stat

    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise InputError(param, str(p), "file not found") from None
    except OSError as e:
        raise InputError(param, str(p), f"cannot be read ({e.strerror or e.__class__.__name__})") from None
    if _stat.S_ISDIR(st.st_mode):
        raise InputError(param, str(p), "is a directory; must be a regular file")
    if not _stat.S_ISREG(st.st_mode):
        raise InputError(param, str(p), "is not a regular file (a FIFO, socket or device); must be a regular file")
    if max_bytes is not None and st.st_size > max_bytes:
        raise InputError(param, str(p), f"is {st.st_size} bytes; at most {max_bytes} bytes are read")
    return p


def load_toml(path: str | Path, param: str = "config") -> dict[str, Any]:
    """Read a TOML file; a missing, irregular, oversized, unreadable or malformed file is an
    ``InputError`` on ``param``."""
    p = regular_file(path, param, max_bytes=MAX_CONFIG_BYTES)
    try:
        with open(p, "rb") as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise InputError(param, str(p), f"is larger than {MAX_CONFIG_BYTES} bytes")
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(param, str(p), f"cannot be read ({e.__class__.__name__})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(param, str(p), f"is not valid TOML ({e})") from None


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _parse_override_value(text: str, item: str) -> Any:
    """Exactly one TOML value (a bare word is a string); anything that would parse as more is refused."""
    try:
        doc = tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        if re.fullmatch(r"[^\n\r=\"'\[\]{}#]+", text):
            return text  # a bare word is a string
        raise InputError("--set", item, "the value must be one TOML value (quote strings: key=\"text\")") from None
    if set(doc) != {"v"}:
        raise InputError("--set", item, "the value must be exactly one TOML value for one key")
    return doc["v"]


def apply_overrides(raw: Mapping[str, Any], sets: Sequence[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` overrides (values parsed as TOML, bare words as strings)."""
    out: dict[str, Any] = _deepcopy(raw)
    for item in sets:
        if "=" not in item:
            raise InputError("--set", item, "must have the form key.sub=value")
        key, text = item.split("=", 1)
        parts = [k.strip() for k in key.strip().split(".")]
        if not key.strip():
            raise InputError("--set", item, "must name a key before '='")
        if not all(_BARE_KEY.fullmatch(k) for k in parts):
            raise InputError("--set", item, "the key must be dotted names of letters, digits, '_' or '-' (table.key)")
        node = out
        for k in parts[:-1]:
            nxt = node.setdefault(k, {})
            if not isinstance(nxt, dict):
                raise InputError("--set", item, f"'{k}' is not a table")
            node = nxt
        node[parts[-1]] = _parse_override_value(text.strip(), item)
    return out


def _deepcopy(d: Any) -> Any:
    if isinstance(d, Mapping):
        return {k: _deepcopy(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_deepcopy(v) for v in d]
    return d


def load_npz_arrays(path: str | Path, param: str) -> dict[str, np.ndarray]:
    """Load every array of an NPZ file; errors name ``param``.

    Each member's ``.npy`` header (shape, dtype) is read and checked before anything is
    decompressed: Python objects (pickles) are refused naming the array, and arrays larger than the
    memory limit (:func:`memory_limit`) are refused from the size their header declares.
    """
    from .io import read_npz

    return read_npz(path, param)


# resources (memory limit, estimates): statmech_attn/_resources.py, re-exported here
from ._resources import (INT64_MAX, MEMORY_ENV, _human, check_memory, check_resources, memory_limit,  # noqa: E402
                         nbytes, parse_bytes)


# --------------------------------------------------------------------------------------------
# building


def _leaf_kind(value: Any) -> str | None:
    """The first offending leaf kind of nested lists: 'bool', 'complex', 'text', or None."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, (bool, np.bool_)):
            return "bool"
        elif isinstance(v, (complex, np.complexfloating)):
            return "complex"
        elif not isinstance(v, (int, float, np.integer, np.floating)):
            return "text" if isinstance(v, str) else type(v).__name__
    return None


def numeric_array(value: Any, name: str, *, integer: bool = False) -> np.ndarray:
    """A real array (float64, or int64 with ``integer=True``) with finite entries, or ``InputError``.

    Booleans are not numbers, complex numbers are refused (never silently cut to their real part),
    and neither are text or Python objects.
    """
    what = "integers" if integer else "real numbers"
    if isinstance(value, np.ndarray) or hasattr(value, "__array__") and not isinstance(value, (list, tuple)):
        arr = np.asarray(value)
        kind = arr.dtype.kind
        if kind == "b":
            raise InputError(name, f"boolean array of shape {arr.shape}", f"must hold {what}, not true/false")
        if kind == "c":
            raise InputError(name, f"complex array of shape {arr.shape}", f"must hold {what} (complex refused)")
        if kind not in "iuf":
            raise InputError(name, f"{arr.dtype} array", f"must hold {what}")
    else:
        bad = _leaf_kind(value)
        if bad is not None:
            raise InputError(name, value, f"must hold {what} (found {'true/false' if bad == 'bool' else bad})")
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (ValueError, TypeError, OverflowError):
            raise InputError(name, value, "must be a numeric array (nested lists of equal length)") from None
    if integer:
        if arr.dtype.kind == "f":
            if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                raise InputError(name, "non-integer entries", "every entry must be an integer")
            if arr.size and np.max(np.abs(arr)) >= 2.0**63:
                raise InputError(name, "entries beyond int64", "every entry must be an integer in the int64 range")
        elif arr.dtype.kind == "u" and arr.size and int(arr.max()) > INT64_MAX:
            raise InputError(name, "entries beyond int64", "every entry must be an integer in the int64 range")
        return arr.astype(np.int64)
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise InputError(name, "NaN/inf", "every entry must be finite")
    return arr



def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0], True
    return tp, False


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    return getattr(tp, "__name__", str(tp))


def _coerce(tp: Any, value: Any, name: str, base_dir: Path) -> Any:
    """Convert a TOML value to the field type, or raise InputError naming ``name``."""
    tp, _ = _unwrap_optional(tp)
    origin = typing.get_origin(tp)
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise InputError(name, value, "must be one of " + ", ".join(repr(c) for c in choices))
        return value
    if _is_dataclass_type(tp):
        if not isinstance(value, Mapping):
            raise InputError(name, value, "must be a TOML table")
        return build(tp, value, name=name, base_dir=base_dir)
    if tp is bool:
        if not isinstance(value, bool):
            raise InputError(name, value, "must be true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise InputError(name, value, "must be an integer")
        value = int(value)
        if not -INT64_MAX - 1 <= value <= INT64_MAX:
            raise InputError(name, value, "must be an integer in the int64 range (|n| < 2**63)")
        return value
    if tp is float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise InputError(name, value, "must be a real number" + (" (not true/false)" if isinstance(value, bool) else ""))
        value = float(value)
        if not math.isfinite(value):
            raise InputError(name, value, "must be finite")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise InputError(name, value, "must be a string")
        return value
    if origin is tuple:
        args = typing.get_args(tp)
        elem = args[0] if args else Any
        if not isinstance(value, (list, tuple)):
            value = [value]  # a scalar where a list is expected: a one-element list
        return tuple(_coerce(elem, v, f"{name}[{i}]", base_dir) if elem is not Any else v
                     for i, v in enumerate(value))
    if tp is np.ndarray:
        return numeric_array(value, name)
    if tp is Any:
        return value
    raise TypeError(f"config field {name}: unsupported type {tp!r}")  # a schema bug, not user input


def _is_seed(name: str) -> bool:
    return name in ("seed", "seeds") or name.startswith("seed_") or name.endswith("_seed")


def _check_seed(value: Any, name: str) -> None:
    """Seeds are integers >= 0 (NumPy's and JAX's generators refuse negative ones)."""
    for i, v in enumerate(value if isinstance(value, (list, tuple)) else [value]):
        if isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v < 0:
            raise InputError(name if not isinstance(value, (list, tuple)) else f"{name}[{i}]", v,
                             "a seed must be an integer >= 0")


def build(cls: type[C], table: Mapping[str, Any], *, name: str = "", base_dir: str | Path = ".") -> C:
    """Build the frozen dataclass ``cls`` from a TOML table, validating every field.

    Raises:
        InputError: naming the dotted key for an unknown key, a wrong type, or a failed check.
    """
    base = Path(base_dir)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    table = dict(table)
    kwargs: dict[str, Any] = {}
    dotted = (lambda k: f"{name}.{k}" if name else k)

    # <key>_npz = "file.npz" for array fields
    for key in list(table):
        if key.endswith("_npz") and key[:-4] in fields:
            base_key = key[:-4]
            tp, _ = _unwrap_optional(hints[base_key])
            if tp is not np.ndarray:
                raise InputError(dotted(key), table[key], f"'{base_key}' is not a matrix field")
            if base_key in table:
                raise InputError(dotted(key), table[key], f"give either '{base_key}' or '{key}', not both")
            fname = table.pop(key)
            if not isinstance(fname, str):
                raise InputError(dotted(key), fname, "must be a file name (string)")
            arrays = load_npz_arrays(base / fname, dotted(key))
            if base_key not in arrays:
                raise InputError(dotted(key), fname, f"must hold an array named '{base_key}' (has {sorted(arrays)})")
            table[base_key] = arrays[base_key]

    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise InputError(dotted(unknown[0]), table[unknown[0]],
                         "unknown key; allowed keys: " + ", ".join(sorted(fields)))

    for fname, f in fields.items():
        tp = hints[fname]
        if fname in table:
            value = _coerce(tp, table[fname], dotted(fname), base)
            if f.metadata.get("path") and isinstance(value, str) and value:
                value = str((base / value).resolve())
        else:
            if f.default is not dataclasses.MISSING:
                value = f.default
            elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
                value = f.default_factory()  # type: ignore[misc]
            elif _is_dataclass_type(_unwrap_optional(tp)[0]):
                value = build(_unwrap_optional(tp)[0], {}, name=dotted(fname), base_dir=base)
            else:
                raise InputError(dotted(fname), None, f"is required ({_type_name(tp)})")
        if _is_seed(fname) and value is not None:
            _check_seed(value, dotted(fname))
        check = f.metadata.get("check")
        if check is not None and value is not None:
            try:
                value = check(value)
            except InputError as e:
                raise e.prefixed(dotted(fname)) if not e.param.startswith(dotted(fname)) else e from None
        kwargs[fname] = value
    try:
        obj = cls(**kwargs)
    except InputError as e:  # cross-field checks in __post_init__
        raise (e.prefixed(name) if name else e) from None
    return obj


class Spec:
    """Base of every theory's top-level spec (a frozen dataclass, one field per TOML table or key).

    ``Spec.from_config(mapping)`` takes exactly the keys of the TOML file; every rule for a parameter
    lives in the field's ``check`` or the dataclass's ``__post_init__``, once.
    """

    @classmethod
    def from_config(cls: type[C], mapping: Mapping[str, Any], *, base_dir: str | Path = ".",
                    overrides: Sequence[str] = ()) -> C:
        """Build and validate the spec from a TOML-shaped mapping (``--set`` style ``overrides`` applied)."""
        return build(cls, apply_overrides(mapping, overrides), base_dir=base_dir)


def load_config(path: str | Path, schema: type[C], overrides: Sequence[str] = ()) -> C:
    """Read ``path`` (TOML), apply ``--set`` overrides, build and validate ``schema``."""
    raw = load_toml(path)
    raw = apply_overrides(raw, overrides)
    return build(schema, raw, base_dir=Path(path).resolve().parent)


# --------------------------------------------------------------------------------------------
# writing back


def to_toml_dict(cfg: Any, *, inline_limit: int = 4096,
                 arrays: dict[str, dict[str, np.ndarray]] | None = None,
                 prefix: str = "") -> dict[str, Any]:
    """The resolved config as a TOML-ready dict (all defaults filled).

    ``None`` fields are omitted (TOML has no null).  Arrays with more than ``inline_limit``
    entries are put in ``arrays`` as ``{file name: {key: array}}`` (one NPZ file per dotted key,
    saved beside ``config.toml``) and referenced as ``<key>_npz = "config_<dotted_key>.npz"``.
    """
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        key = f"{prefix}{f.name}"
        if v is None:
            continue
        if dataclasses.is_dataclass(v):
            out[f.name] = to_toml_dict(v, inline_limit=inline_limit, arrays=arrays, prefix=f"{key}.")
        elif isinstance(v, np.ndarray):
            if v.size > inline_limit and arrays is not None:
                fname = "config_" + key.replace(".", "_") + ".npz"
                arrays[fname] = {f.name: v}
                out[f"{f.name}_npz"] = fname
            else:
                out[f.name] = v.tolist()
        elif isinstance(v, tuple):
            out[f.name] = [x.tolist() if isinstance(x, np.ndarray) else x for x in v]
        else:
            out[f.name] = v
    return out


def toml_value(value: Any) -> str:
    """One Python value as the text of one TOML value (the right-hand side of ``--set key=...``)."""
    import tomli_w

    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, tuple):
        value = list(value)
    elif isinstance(value, (np.floating, np.integer, np.bool_)):
        value = value.item()
    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()
