"""A safe text form of derivation results: JSON, with SymPy expressions as ``srepr`` text.

Nothing is pickled and nothing read back is executed.  :func:`dumps` turns a result into JSON:
``None``, booleans, integers, floats and strings as themselves; every other value as a one-key
object naming what it is::

    {"tuple": [...]}    {"list": [...]}    {"dict": {"key": ...}}      (string keys only)
    {"sympy": "MatMul(Integer(-1), Inverse(SymmetricMatrixSymbol(Str('U_1'), ...)))"}
    {"dataclass": "Condition", "fields": {"parameter": ..., "gradient": ..., ...}}

:func:`loads` reads it back.  An expression's text is parsed with :func:`ast.parse` and rebuilt
node by node (:func:`parse_srepr`): only calls of whitelisted SymPy class names (the SymPy classes
of the ``sympy`` namespace, ``Str``, ``MatrixElement`` and the classes the caller names), the
SymPy constants (``pi``, ``I``, ``oo``, ...), numeric literals (with a sign), lists, tuples and
keyword arguments with literal values are allowed; a string literal only as an argument of a
name-taking class (``Symbol``, ``Dummy``, ``Str``, ``Float``, ``Function``, ``MatrixSymbol``), so
no constructor ever hands text to ``sympify``.  A dataclass is rebuilt only when its class name is
among the ``types`` the caller passes.  Anything else raises :class:`DecodeError`.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import json
from typing import Any, Iterable, Mapping

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.core.symbol import Str
from sympy.matrices.expressions.matexpr import MatrixElement

FORMAT = "statmech_attn.derivation-cache/1"

_TEXT_TAKING = frozenset({"Symbol", "Dummy", "Str", "Float", "Function", "MatrixSymbol"})
_MAX_DEPTH = 400


class DecodeError(ValueError):
    """Cache text that is not a result this module wrote (damaged, foreign or not whitelisted)."""


@functools.lru_cache(maxsize=1)
def _sympy_names() -> tuple[dict[str, type], dict[str, Any]]:
    classes = {n: v for n, v in vars(sp).items()
               if inspect.isclass(v) and (issubclass(v, sp.Basic) or issubclass(v, sp.MatrixBase))}
    classes.update(Str=Str, MatrixElement=MatrixElement)
    constants = {n: v for n, v in vars(sp).items() if isinstance(v, sp.Basic) and not inspect.isclass(v)}
    return classes, constants


def _registry(types: Iterable[type]) -> tuple[dict[str, type], dict[str, type]]:
    """(SymPy classes by name, dataclasses by name): the whitelist for one call."""
    classes, _ = _sympy_names()
    classes = dict(classes)
    dcs: dict[str, type] = {}
    for t in types:
        if dataclasses.is_dataclass(t):
            dcs[t.__name__] = t
        elif inspect.isclass(t) and issubclass(t, sp.Basic):
            classes[t.__name__] = t
        else:
            raise TypeError(f"{t!r} is neither a dataclass nor a SymPy class")
    return classes, dcs


# ------------------------------------------------------------------------------------------
# writing


def _encode(obj: Any, dcs: Mapping[str, type]) -> Any:
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if type(obj) is int or type(obj) is float:
        return obj
    if isinstance(obj, tuple):
        return {"tuple": [_encode(o, dcs) for o in obj]}
    if isinstance(obj, list):
        return {"list": [_encode(o, dcs) for o in obj]}
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError("only dicts with string keys are cached")
        return {"dict": {k: _encode(v, dcs) for k, v in obj.items()}}
    if isinstance(obj, sp.Basic):
        return {"sympy": srepr(obj)}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        name = type(obj).__name__
        if dcs.get(name) is not type(obj):
            raise TypeError(f"dataclass {name} is not among the cache's types")
        fields = {f.name: _encode(getattr(obj, f.name), dcs) for f in dataclasses.fields(obj) if f.init}
        return {"dataclass": name, "fields": fields}
    raise TypeError(f"cannot cache a {type(obj).__name__}")


def srepr(expr: Any) -> str:
    """``srepr``-like text that rebuilds ``expr`` exactly: an atom as SymPy prints it, any other
    node as ``<class name>(<args>)`` over ``expr.args`` in their stored order (SymPy's invariant
    ``expr.func(*expr.args) == expr``; ``sympy.srepr`` reorders sums and merges coefficients)."""
    if isinstance(expr, sp.Basic):
        if not expr.args:
            return sp.srepr(expr)
        name = f"Function({expr.func.__name__!r})" if isinstance(expr, AppliedUndef) else type(expr).__name__
        return f"{name}({', '.join(srepr(a) for a in expr.args)})"
    if type(expr) is int:
        return repr(expr)
    if isinstance(expr, tuple):
        return "(" + "".join(srepr(a) + ", " for a in expr) + ")"
    raise TypeError(f"cannot write a {type(expr).__name__} inside a SymPy expression")


def dumps(obj: Any, *, key: str, types: Iterable[type] = ()) -> str:
    """The JSON text of ``obj`` (with the format tag and ``key``); ``TypeError`` for a value it
    cannot represent."""
    _, dcs = _registry(types)
    return json.dumps({"format": FORMAT, "key": key, "value": _encode(obj, dcs)}, ensure_ascii=False,
                      allow_nan=True)


# ------------------------------------------------------------------------------------------
# reading


def parse_srepr(text: str, classes: Mapping[str, type]) -> Any:
    """Rebuild a SymPy object from its ``srepr`` text without ``eval``: see the module docstring."""
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise DecodeError(f"not an expression: {e}") from None
    _, constants = _sympy_names()
    return _build(tree.body, classes, constants, 0, text_ok=False)


def _build(node: ast.AST, classes, constants, depth: int, *, text_ok: bool) -> Any:
    if depth > _MAX_DEPTH:
        raise DecodeError("expression nested too deeply")
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, str):
            if not text_ok:
                raise DecodeError("a string literal outside a name-taking SymPy class")
            return v
        if v is None or type(v) in (bool, int, float):
            return v
        raise DecodeError(f"literal of type {type(v).__name__} not allowed")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) \
            and isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float):
        v = node.operand.value
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_build(e, classes, constants, depth + 1, text_ok=False) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Name):
        if node.id in constants:
            return constants[node.id]
        raise DecodeError(f"name {node.id!r} not allowed")
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in classes:
            fn, takes_text = classes[func.id], func.id in _TEXT_TAKING
        elif (isinstance(func, ast.Call) and isinstance(func.func, ast.Name) and func.func.id == "Function"):
            fn, takes_text = _build(func, classes, constants, depth + 1, text_ok=False), False  # f(x)
        else:
            raise DecodeError(f"call of {ast.unparse(func)[:60]!r} not allowed")
        args = [_build(a, classes, constants, depth + 1, text_ok=takes_text) for a in node.args]
        kwargs = {}
        for kw in node.keywords:
            if kw.arg is None or not isinstance(kw.value, ast.Constant) or isinstance(kw.value.value, str):
                raise DecodeError("keyword arguments must be named literals")
            kwargs[kw.arg] = kw.value.value
        return fn(*args, **kwargs)
    raise DecodeError(f"{type(node).__name__} not allowed")


def _decode(obj: Any, classes, dcs) -> Any:
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict) and len(obj) == 1:
        (tag, v), = obj.items()
        if tag == "tuple" and isinstance(v, list):
            return tuple(_decode(o, classes, dcs) for o in v)
        if tag == "list" and isinstance(v, list):
            return [_decode(o, classes, dcs) for o in v]
        if tag == "dict" and isinstance(v, dict):
            return {k: _decode(o, classes, dcs) for k, o in v.items()}
        if tag == "sympy" and isinstance(v, str):
            return parse_srepr(v, classes)
    if isinstance(obj, dict) and set(obj) == {"dataclass", "fields"} and isinstance(obj["fields"], dict):
        cls = dcs.get(obj["dataclass"])
        if cls is None:
            raise DecodeError(f"dataclass {obj['dataclass']!r} not allowed")
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        if set(obj["fields"]) - names:
            raise DecodeError(f"unknown fields for {cls.__name__}")
        return cls(**{k: _decode(v, classes, dcs) for k, v in obj["fields"].items()})
    raise DecodeError("not a value this cache writes")


def loads(text: str, *, key: str, types: Iterable[type] = ()) -> Any:
    """The value of JSON text written by :func:`dumps` for ``key``; :class:`DecodeError` for
    anything else (damaged, another format or key, a name outside the whitelist)."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise DecodeError(f"not JSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("key") != key or "value" not in doc:
        raise DecodeError("not a derivation-cache entry of this format and key")
    classes, dcs = _registry(types)
    try:
        return _decode(doc["value"], classes, dcs)
    except DecodeError:
        raise
    except Exception as e:  # a whitelisted constructor refused its arguments
        raise DecodeError(f"{type(e).__name__}: {e}") from None
