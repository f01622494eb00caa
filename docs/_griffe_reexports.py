"""Griffe extension for the API reference: ``from ._x import name as name`` is a public re-export.

The package's ``__init__`` modules re-export their public names with the explicit ``X as X`` form
(no ``__all__``).  Griffe counts imported names as private unless ``__all__`` lists them, so this
extension marks every ``import ... as alias`` of a module without ``__all__`` as public (names that
start with ``_`` stay private).  Modules with ``__all__`` are left to Griffe.
"""

from __future__ import annotations

import ast
from typing import Any

import griffe


class ReExports(griffe.Extension):
    """Mark ``from m import a as b`` (b public) as a public member of the importing module."""

    def on_module_members(self, *, node: ast.AST | griffe.ObjectNode, mod: griffe.Module, **kwargs: Any) -> None:
        if not isinstance(node, ast.Module) or mod.exports is not None:
            return
        for stmt in node.body:
            if isinstance(stmt, (ast.ImportFrom, ast.Import)):
                for alias in stmt.names:
                    name = alias.asname
                    if name and not name.startswith("_") and name in mod.members:
                        mod.members[name].public = True
