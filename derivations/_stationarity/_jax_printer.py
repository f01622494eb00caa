"""JAX callables (:func:`jax_function`): SymPy's NumPy/JAX code printer with the explicit name
mapping :data:`JAX_FUNCTIONS_NAMES` (``inv`` is a Cholesky-based positive-definite inverse,
``sqrtm`` an eigen-decomposition square root, ``partial_trace``, ``kron_identity``, ...).  Every
function the generated code calls is checked against the mapping when the callable is built
(:func:`check_jax_coverage`); a missing one raises instead of failing later inside a solver.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any, Callable, Iterable, Mapping, Sequence

import sympy as sp
from sympy.printing.numpy import JaxPrinter


def _pd_inv(m):
    import jax.numpy as jnp
    import jax.scipy.linalg as jsl

    return jsl.cho_solve((jnp.linalg.cholesky(m), True), jnp.eye(m.shape[-1], dtype=m.dtype))


def _sqrtm_pd(m):
    import jax.numpy as jnp

    w, v = jnp.linalg.eigh((m + m.T) / 2)
    return (v * jnp.sqrt(w)) @ v.T


def _partial_trace(m, n):
    import jax.numpy as jnp

    n = int(n)
    d = m.shape[0] // n
    return jnp.einsum("hahb->ab", m.reshape(n, d, n, d))


def _kron_identity(m, n):
    import jax.numpy as jnp

    return jnp.kron(jnp.eye(int(n), dtype=m.dtype), m)


def _jax_functions() -> dict[str, Callable]:
    import jax.numpy as jnp

    return {
        "inv": _pd_inv,
        "sqrtm": _sqrtm_pd,
        "partial_trace": _partial_trace,
        "kron_identity": _kron_identity,
        "trace": jnp.trace,
        "eye": lambda n, dtype=None: jnp.eye(int(n), dtype=dtype or jnp.float64),
        "zeros": jnp.zeros,
        "array": jnp.asarray,
        "matmul": jnp.matmul,
        "transpose": jnp.transpose,
        "log": jnp.log,
        "exp": jnp.exp,
        "sqrt": jnp.sqrt,
        "abs": jnp.abs,
        "logdet": lambda m: 2.0 * jnp.sum(jnp.log(jnp.diagonal(jnp.linalg.cholesky(m)))),
        "det": jnp.linalg.det,
        "float64": jnp.float64,
    }


JAX_FUNCTIONS_NAMES = ("inv", "sqrtm", "partial_trace", "kron_identity", "trace", "eye", "zeros", "array",
                       "matmul", "transpose", "log", "exp", "sqrt", "abs", "logdet", "det", "float64")
"""Names the generated code may call; :func:`jax_functions` maps each to its JAX function
(``inv`` → Cholesky-based positive-definite inverse, ``sqrtm`` → eigh square root)."""

_ARRAY_METHODS = frozenset({"dot", "T"})


class JaxCodePrinter(JaxPrinter):
    """SymPy's JAX printer with unqualified names from :data:`JAX_FUNCTIONS_NAMES` and rules for
    Trace, Inverse, Identity, :class:`LinearOperator`, :class:`PDSqrt`."""

    def __init__(self, settings=None, operators: Mapping[str, str] | None = None):
        s = {"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": False}
        s.update(settings or {})
        super().__init__(s)

    def _print_Trace(self, expr):
        return f"trace({self._print(expr.arg)})"

    def _print_Inverse(self, expr):
        return f"inv({self._print(expr.arg)})"

    def _print_MatPow(self, expr):
        if expr.exp == -1:
            return f"inv({self._print(expr.base)})"
        return super()._print_MatPow(expr)

    def _print_Identity(self, expr):
        return f"eye({self._print(expr.rows)})"

    def _print_ZeroMatrix(self, expr):
        return f"zeros(({self._print(expr.rows)}, {self._print(expr.cols)}))"

    def _print_PDSqrt(self, expr):
        return f"sqrtm({self._print(expr.arg)})"

    def _print_LinearOperator(self, expr):
        args = ", ".join(self._print(a) for a in expr.numeric_args())
        return f"{expr.numeric_name}({args})"

    def _print_PartialTrace(self, expr):
        return self._print_LinearOperator(expr)

    def _print_KronIdentity(self, expr):
        return self._print_LinearOperator(expr)

    def _print_log(self, expr):
        a = expr.args[0]
        if isinstance(a, sp.Determinant):
            return f"logdet({self._print(a.arg)})"
        return f"log({self._print(a)})"

    def _print_Determinant(self, expr):
        return f"det({self._print(expr.arg)})"

    def _print_ImmutableDenseMatrix(self, expr):
        rows = ", ".join("[" + ", ".join(self._print(expr[i, j]) for j in range(expr.cols)) + "]" for i in range(expr.rows))
        return f"array([{rows}])"

    _print_MutableDenseMatrix = _print_ImmutableDenseMatrix
    _print_Matrix = _print_ImmutableDenseMatrix


def jax_functions(extra: Mapping[str, Callable] | None = None) -> dict[str, Callable]:
    """The explicit name → JAX function mapping handed to ``lambdify`` (plus ``extra``)."""
    m = _jax_functions()
    m.update(extra or {})
    return m


def called_names(source: str) -> set[str]:
    """Names of all functions called by generated source (``f(...)``)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                names.add(node.func.id)
            elif isinstance(node.func, ast.Attribute) and node.func.attr not in _ARRAY_METHODS:
                names.add(ast.unparse(node.func))
    return names


def check_jax_coverage(source: str, mapping: Mapping[str, Callable], allowed: Iterable[str] = ()) -> None:
    """Raise ``RuntimeError`` naming every function the generated source calls that has no JAX
    counterpart in ``mapping`` (``allowed``: extra names, e.g. the generated function itself)."""
    missing = sorted(called_names(source) - set(mapping) - set(allowed) - {"_lambdifygenerated"})
    if missing:
        raise RuntimeError(f"generated code calls functions without a JAX counterpart: {', '.join(missing)}")


def jax_function(args: Sequence[Any], expr: Any, *, extra: Mapping[str, Callable] | None = None,
                 printer: JaxCodePrinter | None = None) -> Callable:
    """``lambdify(args, expr)`` to JAX with the explicit mapping :func:`jax_functions`.

    ``args`` may nest (lists of symbols are unpacked from sequences).  The generated source is
    kept as ``fn.source`` and checked with :func:`check_jax_coverage` before returning.
    """
    mapping = jax_functions(extra)
    fn = sp.lambdify(args, expr, modules=[mapping], printer=printer or JaxCodePrinter(), cse=True, docstring_limit=0)
    src = inspect.getsource(fn)
    check_jax_coverage(src, mapping)
    fn.source = src
    return fn
