"""A safe text form of derivation results: JSON, with SymPy expressions as ``srepr`` text.

Nothing is pickled and nothing read back is executed.  :func:`dumps` writes one JSON document
``{"format", "key", "nodes", "value"}``.  ``value`` holds ``None``, booleans, integers, floats and
strings as themselves and every other value as a one-key object naming what it is::

    {"tuple": [...]}    {"list": [...]}    {"dict": {"key": ...}}      (string keys only)
    {"sympy": "_12"}                                                   (node 12 of "nodes")
    {"dataclass": "Condition", "fields": {"parameter": ..., "gradient": ..., ...}}

``nodes`` lists every distinct SymPy subexpression once, in ``srepr`` form over its stored
arguments, an argument that is itself a node written ``_k`` (an earlier node), e.g.
``["Symbol('q', positive=True)", "Integer(2)", "Pow(_0, _1)"]``; shared subexpressions are
written and rebuilt once.

:func:`loads` reads it back.  The nodes' text is parsed with :func:`ast.parse` and rebuilt node by
node (:func:`parse_srepr`): only references ``_k`` to earlier nodes, calls of whitelisted SymPy
class names (the SymPy classes of the ``sympy`` namespace, ``Str``, ``MatrixElement`` and the
classes the caller names), the SymPy constants (``pi``, ``I``, ``oo``, ...), numeric literals
(with a sign), lists, tuples and keyword arguments with literal values are allowed; a string
literal only as an argument of a name-taking class (``Symbol``, ``Dummy``, ``Str``, ``Float``,
``Function``, ``MatrixSymbol``), so no constructor ever hands text to ``sympify``.  A dataclass is
rebuilt only when its class name is among the ``types`` the caller passes.  Anything else raises
:class:`DecodeError`.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import json
import re
from typing import Any, Iterable, Mapping, Sequence

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.core.symbol import Str
from sympy.matrices.expressions.matexpr import MatrixElement

FORMAT = "statmech_attn.derivation-cache/2"

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


class _Nodes:
    """The node table of one document: every distinct SymPy subexpression once."""

    def __init__(self):
        self.texts: list[str] = []
        self.index: dict[tuple[type, Any], int] = {}

    def ref(self, expr: Any) -> str:
        """``_k`` for a SymPy object (added with its arguments first); literal text for an int or
        a tuple among a node's arguments (an ``ImmutableDenseMatrix`` holds both)."""
        if isinstance(expr, sp.Basic):
            k = self.index.get((type(expr), expr))
            if k is None:
                if not expr.args:
                    text = sp.srepr(expr)
                else:
                    name = f"Function({expr.func.__name__!r})" if isinstance(expr, AppliedUndef) else type(expr).__name__
                    # the stored args (expr.func(*expr.args) == expr); sympy.srepr reorders sums
                    text = f"{name}({', '.join(self.ref(a) for a in expr.args)})"
                k = self.index[(type(expr), expr)] = len(self.texts)
                self.texts.append(text)
            return f"_{k}"
        if type(expr) is int:
            return repr(expr)
        if isinstance(expr, tuple):
            return "(" + "".join(self.ref(a) + ", " for a in expr) + ")"
        raise TypeError(f"cannot write a {type(expr).__name__} inside a SymPy expression")


def _encode(obj: Any, dcs: Mapping[str, type], nodes: _Nodes) -> Any:
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if type(obj) is int or type(obj) is float:
        return obj
    if isinstance(obj, tuple):
        return {"tuple": [_encode(o, dcs, nodes) for o in obj]}
    if isinstance(obj, list):
        return {"list": [_encode(o, dcs, nodes) for o in obj]}
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError("only dicts with string keys are cached")
        return {"dict": {k: _encode(v, dcs, nodes) for k, v in obj.items()}}
    if isinstance(obj, sp.Basic):
        return {"sympy": nodes.ref(obj)}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        name = type(obj).__name__
        if dcs.get(name) is not type(obj):
            raise TypeError(f"dataclass {name} is not among the cache's types")
        fields = {f.name: _encode(getattr(obj, f.name), dcs, nodes) for f in dataclasses.fields(obj) if f.init}
        return {"dataclass": name, "fields": fields}
    raise TypeError(f"cannot cache a {type(obj).__name__}")


def dumps(obj: Any, *, key: str, types: Iterable[type] = ()) -> str:
    """The JSON text of ``obj`` (with the format tag and ``key``); ``TypeError`` for a value it
    cannot represent."""
    _, dcs = _registry(types)
    nodes = _Nodes()
    value = _encode(obj, dcs, nodes)
    return json.dumps({"format": FORMAT, "key": key, "nodes": nodes.texts, "value": value}, ensure_ascii=False,
                      allow_nan=True, indent=0)


# ------------------------------------------------------------------------------------------
# reading


_REF = re.compile(r"_(0|[1-9][0-9]{0,8})")


def parse_srepr(text: str, classes: Mapping[str, type], refs: Sequence[Any] = ()) -> Any:
    """Rebuild a SymPy object from ``srepr`` text without ``eval`` (``_k`` names ``refs[k]``):
    see the module docstring."""
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise DecodeError(f"not an expression: {e}") from None
    return _Builder(classes, refs).build(tree.body, 0, text_ok=False)


class _Builder:
    def __init__(self, classes: Mapping[str, type], refs: Sequence[Any]):
        self.classes, self.refs = classes, refs
        _, self.constants = _sympy_names()

    def build(self, node: ast.AST, depth: int, *, text_ok: bool) -> Any:
        if depth > _MAX_DEPTH:
            raise DecodeError("expression nested too deeply")
        if isinstance(node, ast.Name):
            m = _REF.fullmatch(node.id)
            if m is not None and int(m.group(1)) < len(self.refs):
                return self.refs[int(m.group(1))]
            if node.id in self.constants:
                return self.constants[node.id]
            raise DecodeError(f"name {node.id!r} not allowed")
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
            items = [self.build(e, depth + 1, text_ok=False) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in self.classes:
                fn, takes_text = self.classes[func.id], func.id in _TEXT_TAKING
            elif isinstance(func, ast.Call) and isinstance(func.func, ast.Name) and func.func.id == "Function":
                fn, takes_text = self.build(func, depth + 1, text_ok=False), False  # f(x): undefined function
            else:
                raise DecodeError(f"call of {ast.unparse(func)[:60]!r} not allowed")
            args = [self.build(a, depth + 1, text_ok=takes_text) for a in node.args]
            kwargs = {}
            for kw in node.keywords:
                if kw.arg is None or not isinstance(kw.value, ast.Constant) or isinstance(kw.value.value, str):
                    raise DecodeError("keyword arguments must be named literals")
                kwargs[kw.arg] = kw.value.value
            return fn(*args, **kwargs)
        raise DecodeError(f"{type(node).__name__} not allowed")


def _nodes(texts: Any, classes: Mapping[str, type]) -> list:
    """Rebuild the node table (one parse of all texts; node k may refer to nodes < k only)."""
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise DecodeError("nodes must be a list of strings")
    if not texts:
        return []
    try:
        tree = ast.parse("[\n" + ",\n".join(texts) + "\n]", mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise DecodeError(f"not an expression: {e}") from None
    if not isinstance(tree.body, ast.List) or len(tree.body.elts) != len(texts):
        raise DecodeError("a node is not one expression")
    built: list = []
    builder = _Builder(classes, built)
    for node in tree.body.elts:
        built.append(builder.build(node, 0, text_ok=False))
    return built


def _decode(obj: Any, classes, dcs, refs) -> Any:
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict) and len(obj) == 1:
        (tag, v), = obj.items()
        if tag == "tuple" and isinstance(v, list):
            return tuple(_decode(o, classes, dcs, refs) for o in v)
        if tag == "list" and isinstance(v, list):
            return [_decode(o, classes, dcs, refs) for o in v]
        if tag == "dict" and isinstance(v, dict):
            return {k: _decode(o, classes, dcs, refs) for k, o in v.items()}
        if tag == "sympy" and isinstance(v, str):
            return parse_srepr(v, classes, refs)
    if isinstance(obj, dict) and set(obj) == {"dataclass", "fields"} and isinstance(obj["fields"], dict):
        cls = dcs.get(obj["dataclass"])
        if cls is None:
            raise DecodeError(f"dataclass {obj['dataclass']!r} not allowed")
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        if set(obj["fields"]) - names:
            raise DecodeError(f"unknown fields for {cls.__name__}")
        return cls(**{k: _decode(v, classes, dcs, refs) for k, v in obj["fields"].items()})
    raise DecodeError("not a value this cache writes")


def loads(text: str, *, key: str, types: Iterable[type] = ()) -> Any:
    """The value of JSON text written by :func:`dumps` for ``key``; :class:`DecodeError` for
    anything else (damaged, another format or key, a name outside the whitelist)."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise DecodeError(f"not JSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("key") != key \
            or set(doc) != {"format", "key", "nodes", "value"}:
        raise DecodeError("not a derivation-cache entry of this format and key")
    classes, dcs = _registry(types)
    try:
        return _decode(doc["value"], classes, dcs, _nodes(doc["nodes"], classes))
    except DecodeError:
        raise
    except Exception as e:  # a whitelisted constructor refused its arguments
        raise DecodeError(f"{type(e).__name__}: {e}") from None
