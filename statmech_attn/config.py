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


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file; an unreadable or malformed file is an ``InputError`` on ``config``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("config", str(p), "file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError("config", str(p), f"cannot be read ({e.__class__.__name__})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError("config", str(p), f"is not valid TOML ({e})") from None


def _parse_override_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word is a string


def apply_overrides(raw: Mapping[str, Any], sets: Sequence[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` overrides (values parsed as TOML, bare words as strings)."""
    out: dict[str, Any] = _deepcopy(raw)
    for item in sets:
        if "=" not in item:
            raise InputError("--set", item, "must have the form key.sub=value")
        key, text = item.split("=", 1)
        parts = [k.strip() for k in key.strip().split(".") if k.strip()]
        if not parts:
            raise InputError("--set", item, "must name a key before '='")
        node = out
        for k in parts[:-1]:
            nxt = node.setdefault(k, {})
            if not isinstance(nxt, dict):
                raise InputError("--set", item, f"'{k}' is not a table")
            node = nxt
        node[parts[-1]] = _parse_override_value(text.strip())
    return out


def _deepcopy(d: Any) -> Any:
    if isinstance(d, Mapping):
        return {k: _deepcopy(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_deepcopy(v) for v in d]
    return d


def load_npz_arrays(path: str | Path, param: str) -> dict[str, np.ndarray]:
    """Load every array of an NPZ file (no pickles); errors name ``param``."""
    p = Path(path)
    if not p.is_file():
        raise InputError(param, str(p), "file not found")
    try:
        with np.load(p, allow_pickle=False) as z:
            return {k: np.asarray(z[k]) for k in z.files}
    except Exception as e:  # noqa: BLE001 - any reader failure is the user's file
        raise InputError(param, str(p), f"is not a readable NPZ file ({e.__class__.__name__})") from None


# --------------------------------------------------------------------------------------------
# building


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
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise InputError(name, value, "must be an integer")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(name, value, "must be a number")
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
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (ValueError, TypeError):
            raise InputError(name, value, "must be a numeric matrix (nested lists of equal length)") from None
        if not np.all(np.isfinite(arr)):
            raise InputError(name, "NaN/inf", "every entry must be finite")
        return arr
    if tp is Any:
        return value
    raise TypeError(f"config field {name}: unsupported type {tp!r}")  # a schema bug, not user input


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
