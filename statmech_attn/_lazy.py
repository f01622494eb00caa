"""Lazy re-exports for the theory packages (PEP 562): ``import statmech_attn.paths`` costs nothing.

A theory's ``__init__`` lists its public names three times, each for one reader: ``if TYPE_CHECKING:``
``from ._x import name as name`` lines (type checkers, and griffe for the API reference, read these
statically), ``__all__``, and ``_LAZY`` (name -> ``"._x"`` or ``("._x", "attribute")``), which its module
``__getattr__`` hands to :func:`load` on first use.  So the command line's config checks and
``plot`` verbs import only what they use (no JAX), while ``from statmech_attn.paths import solve``
works as before.  ``tests/test_lazy_imports.py`` checks that the three lists agree.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any, Mapping, Sequence

__all__ = ["attach", "load", "guard_submodule_names"]


def _target(entry: str | tuple[str, str], name: str) -> tuple[str, str]:
    return (entry, name) if isinstance(entry, str) else entry


def load(package: str, table: Mapping[str, str | tuple[str, str]], name: str) -> Any:
    """The value of the lazy name ``name`` of ``package`` (its module ``__getattr__``).

    Every name of ``table`` that comes from the same submodule is bound on the package at once, so a
    later attribute lookup is an ordinary one (and a function named like its submodule, e.g.
    ``statmech_attn.theory.solve``, stays the function once the submodule is imported).
    """
    if name not in table:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    module_name, attr = _target(table[name], name)
    module = importlib.import_module(module_name, package)
    pkg = sys.modules[package]
    for other, entry in table.items():
        mod, a = _target(entry, other)
        if mod == module_name:
            setattr(pkg, other, getattr(module, a))
    return getattr(module, attr)


def attach(package: str, table: Mapping[str, str | tuple[str, str]]) -> tuple[Any, Any]:
    """The module ``__getattr__`` and ``__dir__`` of a lazy package: ``__getattr__, __dir__ =
    attach(__name__, _LAZY)`` in its ``__init__`` (names of ``table`` load on first use)."""

    def __getattr__(name: str) -> Any:
        return load(package, table, name)

    def __dir__() -> list[str]:
        return sorted([*vars(sys.modules[package]), *table])

    return __getattr__, __dir__


class _Guarded(types.ModuleType):
    """A package whose public names shadow submodules of the same name (``theory.solve``)."""

    _shadowed: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: Any) -> None:
        # the import system binds a freshly imported submodule on its package; keep the public function
        if name in type(self)._shadowed and isinstance(value, types.ModuleType) \
                and value.__name__ == f"{self.__name__}.{name}":
            value = getattr(value, name)
        super().__setattr__(name, value)


def guard_submodule_names(package: str, names: Sequence[str]) -> None:
    """Keep ``package.<name>`` the re-exported object even when the submodule ``<name>`` is imported.

    Eager re-exports did this by import order (``from .solve import solve as solve`` rebinds the name
    after the submodule is bound); a lazy package needs the guard for imports that bypass it.
    """
    mod = sys.modules[package]
    cls = type(f"_Guarded_{package.replace('.', '_')}", (_Guarded,), {"_shadowed": frozenset(names)})
    mod.__class__ = cls
