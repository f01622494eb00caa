"""``jax.jit`` with the compiler options of this package: programs that compile in a fraction of the time.

A verb's first answer is dominated by XLA compiling its one or two programs, not by running them
(the bundled ``paths solve``: about 2 s to compile the Newton loop, 4 ms to run it).  XLA's CPU
defaults are tuned for long-running kernels; two of its documented debug options trade a little
run time for much shorter compiles on the small, loop-heavy programs of a saddle-point solver:

- ``xla_cpu_use_fusion_emitters=False``: the classic loop emitter instead of the MLIR fusion
  emitters (about 35 % less compile time for the Newton program, run time unchanged);
- ``xla_backend_optimization_level=0`` (:data:`LEAN` only): no LLVM optimisation of the emitted
  element-wise code.  Where the work is in LAPACK/BLAS calls (Cholesky, triangular solves, GEMMs:
  the paths Newton loop) this halves the compile again for a run time that stays in milliseconds;
  where it is in XLA's own element-wise loops (the replica cubature) it costs run time, so those
  programs take :data:`QUICK`.

JAX takes compiler options on a top-level program only (a nested ``jit`` with options is an
error), so :func:`jit` is for the programs a verb calls from Python: the solver loops, the record
program; the functions they call stay plain.  ``benchmarks/first_answer.py`` measures the effect
on whole commands; the persistent compilation
cache (:mod:`statmech_attn._cache`) keys on the options, so a cached program is never mixed with
one compiled otherwise.  The options are XLA ``DebugOptions`` fields, accepted by every backend
(the GPU compiler ignores the CPU one).  Numbers: the same algorithms in float64; the fused and
the classic emitter may order a reduction differently (round-off, far below every tolerance).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

__all__ = ["LEAN", "QUICK", "jit"]

QUICK: dict[str, Any] = {"xla_cpu_use_fusion_emitters": False}
LEAN: dict[str, Any] = {**QUICK, "xla_backend_optimization_level": 0}
_PRESETS = {"quick": QUICK, "lean": LEAN, "default": None}


def jit(fun: Callable | None = None, *, compile: str = "quick", reuse: Sequence[type] | None = None,
        **jit_kwargs: Any) -> Any:
    """``jax.jit(fun, **jit_kwargs)`` with the compiler options of the preset ``compile``:
    ``"quick"`` (:data:`QUICK`, the default), ``"lean"`` (:data:`LEAN`) or ``"default"`` (XLA's own).

    ``reuse``: keep the traced program on disk for later processes
    (:class:`statmech_attn._aot.ReusedProgram`; only ``static_argnames`` may accompany it), given
    the NamedTuple classes among its arguments and results (``()`` when there are none).
    Usable as ``@jit``, ``@jit(compile="lean", static_argnames=...)`` or ``jit(f, ...)``.
    """
    if compile not in _PRESETS:
        raise ValueError(f"compile must be one of {sorted(_PRESETS)}, not {compile!r}")
    import jax

    options = _PRESETS[compile]

    def wrap(f: Callable) -> Any:
        if reuse is not None:
            from ._aot import ReusedProgram

            return ReusedProgram(f, static_argnames=jit_kwargs.get("static_argnames", ()), options=options,
                                 pytree_types=reuse)
        extra = {} if options is None else {"compiler_options": dict(options)}
        return jax.jit(f, **jit_kwargs, **extra)

    return wrap if fun is None else wrap(fun)
