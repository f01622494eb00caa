"""MkDocs hooks of the documentation site (``hooks:`` in mkdocs.yml).

1. ``<!-- keys THEORY [TABLE] -->`` in a page becomes the table of that config table's keys,
   generated from the schema dataclasses named in ``docs/_keys.py``: dotted key, type, default,
   allowed values (from the field's ``check=``, its ``Literal`` choices and the class's
   ``__post_init__`` messages) and meaning (``doc=``, else the class docstring's ``Attributes:``,
   else ``_keys.DOCS``).  Every table of every schema must appear on some page, and every key must
   have a meaning, or the (strict) build fails.
2. ``<!-- cli THEORY -->`` becomes the table of that theory's verbs, from the typer app.
3. Rendered pages (the API reference included) never point at files outside the repository:
   mentions of the project's internal theory notes are rewritten to the site's own pages.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import inspect
import logging
import re
import textwrap
import types
import typing
from pathlib import Path
from typing import Any, Literal

import numpy as np

log = logging.getLogger("mkdocs.hooks.statmech_attn")

_HERE = Path(__file__).resolve().parent


def _load_keys_module() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("statmech_attn_docs_keys", _HERE / "_keys.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


KEYS = _load_keys_module()


def _resolve(candidates: tuple[str, ...], what: str) -> Any:
    errors = []
    for cand in candidates:
        mod_name, _, attr = cand.partition(":")
        try:
            obj = importlib.import_module(mod_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
            return obj
        except (ImportError, AttributeError) as e:
            errors.append(f"{cand}: {e}")
    raise LookupError(f"{what}: none of {list(candidates)} could be imported ({'; '.join(errors)})")


# ------------------------------------------------------------------------------------------------
# scrubbing: the site stands alone


_SCRUB = [
    (re.compile(r"<code>(?:\.\./)?(?:shared/)?theory/attention_paths\.md</code>"), "the attention-paths theory page"),
    (re.compile(r"<code>(?:\.\./)?(?:shared/)?theory/potts\.md</code>"), "the Potts theory page"),
    (re.compile(r"<code>(?:\.\./)?(?:shared/)?theory/others\.md</code>"), "the theory pages"),
    (re.compile(r"(?:\.\./)?(?:shared/)?theory/attention_paths\.md"), "the attention-paths theory page"),
    (re.compile(r"(?:\.\./)?(?:shared/)?theory/potts\.md"), "the Potts theory page"),
    (re.compile(r"(?:\.\./)?(?:shared/)?theory/others\.md"), "the theory pages"),
    (re.compile(r"(?:<code>)?DESIGN\.md(?:</code>)?"), "the architecture page"),
    (re.compile(r"\s*\(seeds? 0\d\d(?:, 0\d\d)*\)"), ""),
    (re.compile(r"\s*\bseeds? 0\d\d(?:, 0\d\d)*"), ""),
]


def scrub(text: str) -> str:
    """Rewrite mentions of files that are not part of the repository."""
    for pat, repl in _SCRUB:
        text = pat.sub(repl, text)
    return text


# ------------------------------------------------------------------------------------------------
# config-key tables


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def _is_table(tp: Any) -> bool:
    tp, _ = _unwrap_optional(tp)
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _type_text(tp: Any) -> str:
    tp, optional = _unwrap_optional(tp)
    origin = typing.get_origin(tp)
    if origin is Literal:
        text = "string"
    elif tp is np.ndarray:
        text = "matrix"
    elif origin is tuple:
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        inner = _type_text(args[0]) if args else "value"
        plural = {"integer": "integers", "number": "numbers", "string": "strings", "boolean": "booleans"}
        text = "list of " + plural.get(inner, inner.replace("list of", "lists of"))
    else:
        text = {int: "integer", float: "number", bool: "boolean", str: "string"}.get(tp, getattr(tp, "__name__", str(tp)))
    return text + (" (optional)" if optional else "")


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, float):
        r = repr(v)
        return r if ("e" in r or "." in r or "inf" in r or "nan" in r) else r + ".0"
    if isinstance(v, np.ndarray):
        return _toml_value(v.tolist())
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return str(v)


def _default_text(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        v = f.default
    elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        v = f.default_factory()  # type: ignore[misc]
    else:
        return "*required*"
    if v is None:
        return "*omitted*"
    if isinstance(v, np.ndarray) and v.size > 9:
        return f"shape {v.shape}"
    if isinstance(v, str) and v == "" and f.metadata.get("path"):
        return '`""` (none)'
    return f"`{_toml_value(v)}`"


def _render_fstring(node: ast.AST, env: dict[str, Any]) -> str | None:
    """The text of a str constant or f-string; names bound in ``env`` are substituted."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and isinstance(env.get(node.id), str):
        return env[node.id]
    if isinstance(node, ast.JoinedStr):
        out = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                out.append(str(part.value))
            elif isinstance(part, ast.FormattedValue):
                val = part.value
                if isinstance(val, ast.Name) and val.id in env and not isinstance(env[val.id], ast.AST):
                    out.append(str(env[val.id]))
                else:
                    out.append("⟨" + ast.unparse(val).replace("self.", "") + "⟩")
        return "".join(out)
    return None


def _clean_message(msg: str) -> str:
    # values only known at run time say nothing here: "(weights = ⟨x⟩)", "= (⟨L⟩, ⟨L⟩)", "(⟨n⟩)"
    msg = re.sub(r"\s*\([^()]*=\s*⟨[^⟩]*⟩[^()]*\)", "", msg)
    msg = re.sub(r"\s=\s*(?:\(⟨[^⟩]*⟩(?:,\s*⟨[^⟩]*⟩)*\)|⟨[^⟩]*⟩)", "", msg)
    msg = re.sub(r"\s*\([^()]*⟨[^⟩]*⟩[^()]*\)", "", msg)
    msg = re.sub(r"⟨([^⟩]*)⟩", r"\1", msg)
    return re.sub(r"\s+", " ", msg.replace(">=", "≥").replace("<=", "≤")).strip()


def _tidy_message(msg: str) -> str:
    return re.sub(r"^(must be |must have |must )", "", _clean_message(msg))


def _calls_input_error(tree: ast.AST, env: dict[str, Any]) -> list[tuple[ast.AST, str]]:
    """(first argument node, message) of every ``InputError(param, value, message)`` in ``tree``."""
    local = dict(env)
    for node in ast.walk(tree):  # local string constants: allowed = "must be ..."
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                local.setdefault(node.targets[0].id, node.value.value)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "InputError":
            if len(node.args) >= 3:
                msg = _render_fstring(node.args[2], local)
                if msg:
                    out.append((node.args[0], msg))
    return out


def _function_tree(fn: Any) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None


def _check_messages(fn: Any, depth: int = 2) -> list[str]:
    """What a ``check=`` function allows, read from the messages of the errors it raises."""
    if fn is None:
        return []
    tree = _function_tree(fn)
    if tree is None:
        return []
    env: dict[str, Any] = {}
    if getattr(fn, "__closure__", None):
        env.update({name: cell.cell_contents for name, cell in zip(fn.__code__.co_freevars, fn.__closure__)})
    msgs = [m for _, m in _calls_input_error(tree, env)]
    if depth > 0 and not msgs:  # a thin wrapper: follow calls into the package's helpers
        glb = getattr(fn, "__globals__", {})
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                callee = None
                if isinstance(node.func, ast.Name):
                    callee = glb.get(node.func.id)
                elif isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
                    callee = getattr(glb.get(node.func.value.id), node.func.attr, None)
                if callee is not None and callee is not fn and callable(callee) and \
                        getattr(callee, "__module__", "").startswith("statmech_attn") and not isinstance(callee, type):
                    msgs += _check_messages(callee, depth - 1)
    seen, out = set(), []
    for m in msgs:
        t = _tidy_message(m)
        if t and t not in seen:
            seen.add(t)
            out.append(t)
    return out


def _post_init_messages(cls: type, field_names: set[str]) -> tuple[dict[str, list[str]], list[str]]:
    """``__post_init__`` messages: per field (when the error names it) and for the whole table."""
    per_field: dict[str, list[str]] = {}
    notes: list[str] = []
    fn = cls.__dict__.get("__post_init__")
    tree = _function_tree(fn) if fn else None
    if tree is None:
        return per_field, notes
    calls: list[tuple[ast.AST, str, dict[str, list[str]]]] = []

    def visit(node: ast.AST, loops: dict[str, list[str]]) -> None:
        # for name in ("a", "b"): ... InputError(name, ...)  binds name to each string
        if isinstance(node, ast.For) and isinstance(node.iter, (ast.Tuple, ast.List)):
            names = []
            for e in node.iter.elts:
                if isinstance(e, ast.Constant) and isinstance(e.value, str):
                    names.append(e.value)
                elif isinstance(e, ast.Tuple) and e.elts and isinstance(e.elts[0], ast.Constant):
                    names.append(e.elts[0].value)
            target = node.target.elts[0] if isinstance(node.target, ast.Tuple) else node.target
            if isinstance(target, ast.Name) and names:
                loops = {**loops, target.id: names}
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "InputError":
            for arg, msg in _calls_input_error(node, {}):
                calls.append((arg, msg, loops))
            return
        for child in ast.iter_child_nodes(node):
            visit(child, loops)

    visit(tree, {})
    for arg, msg, loops in calls:
        text = _tidy_message(msg)
        targets: list[str] = []
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            last = arg.value.split(".")[-1]
            if last in field_names and arg.value.count(".") <= 1:
                targets = [last]
        elif isinstance(arg, ast.Name) and arg.id in loops:
            targets = [n for n in loops[arg.id] if n in field_names]
        if targets:
            for t in targets:
                if text not in per_field.setdefault(t, []):
                    per_field[t].append(text)
        else:
            label = f"`{arg.value}` " if isinstance(arg, ast.Constant) and arg.value else ""
            note = label + _clean_message(msg)
            if note not in notes:
                notes.append(note)
    return per_field, notes


def _attribute_docs(cls: type) -> dict[str, str]:
    """``Attributes:`` section of a Google-style class docstring."""
    doc = inspect.getdoc(cls) or ""
    out: dict[str, str] = {}
    m = re.search(r"^Attributes:\s*\n((?:[ \t]+.*\n?|\s*\n)+)", doc, re.M)
    if not m:
        return out
    current = None
    for line in m.group(1).splitlines():
        mm = re.match(r"^\s{2,8}(\w+)(?:\s*\([^)]*\))?:\s*(.*)$", line)
        if mm:
            current = mm.group(1)
            out[current] = mm.group(2).strip()
        elif current and line.strip():
            out[current] += " " + line.strip()
    return out


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _rst_to_md(text: str) -> str:
    return re.sub(r"``([^`]+)``", r"`\1`", text)


_ALLOWED_BY_NAME = {  # helpers of statmech_attn.config whose messages read poorly out of context
    "positive": "> 0",
    "nonnegative": "≥ 0",
    "probability": "in [0, 1]",
    "all_positive": "non-empty, every entry > 0",
    "finite_matrix": "finite 2-D matrix",
    "square_matrix": "finite square matrix",
    "symmetric_matrix": "finite symmetric matrix",
}


def _allowed_text(tp: Any, f: dataclasses.Field, extra: list[str]) -> str:
    parts: list[str] = []
    base, _ = _unwrap_optional(tp)
    if typing.get_origin(base) is Literal:
        parts.append(", ".join(f"`{_toml_value(a)}`" for a in typing.get_args(base)))
    elif base is bool:
        parts.append("`true`, `false`")
    check = f.metadata.get("check")
    if check is not None:
        name = getattr(check, "__name__", "")
        if name in _ALLOWED_BY_NAME and getattr(check, "__module__", "") == "statmech_attn.config":
            parts.append(_ALLOWED_BY_NAME[name])
        else:
            parts += _check_messages(check)
    parts += [e for e in extra if e not in parts]
    if base is np.ndarray:
        parts.append(f"inline nested list, or `{f.name}_npz = \"file.npz\"`")
    if f.metadata.get("path"):
        parts.append("path, relative to the config file")
    return "; ".join(_rst_to_md(p) for p in parts) if parts else "any"


class KeyTables:
    """Renders the key tables and remembers which schema tables were rendered."""

    def __init__(self) -> None:
        self.roots: dict[str, type] = {}
        self.rendered: set[type] = set()
        self.used_docs: set[str] = set()

    def root(self, theory: str) -> type:
        if theory not in self.roots:
            if theory not in KEYS.SCHEMAS:
                raise LookupError(f"unknown schema {theory!r}; known: {sorted(KEYS.SCHEMAS)}")
            self.roots[theory] = _resolve(KEYS.SCHEMAS[theory], f"schema {theory}")
        return self.roots[theory]

    def table_class(self, theory: str, table: str) -> tuple[type, str]:
        cls = self.root(theory)
        prefix = ""
        for part in [p for p in table.split(".") if p]:
            hints = typing.get_type_hints(cls)
            if part not in hints or not _is_table(hints[part]):
                raise LookupError(f"schema {theory}: {prefix + part!r} is not a table")
            cls = _unwrap_optional(hints[part])[0]
            prefix += part + "."
        return cls, prefix

    def render(self, theory: str, table: str) -> str:
        cls, prefix = self.table_class(theory, table)
        self.rendered.add(cls)
        hints = typing.get_type_hints(cls)
        fields = [f for f in dataclasses.fields(cls) if f.init]
        names = {f.name for f in fields}
        attr_docs = _attribute_docs(cls)
        per_field, notes = _post_init_messages(cls, names)
        rows = ["| key | type | default | allowed | meaning |", "|---|---|---|---|---|"]
        subtables = []
        for f in fields:
            tp = hints[f.name]
            key = prefix + f.name
            if _is_table(tp):
                subtables.append(key)
                continue
            code_doc = f.metadata.get("doc") or attr_docs.get(f.name)
            extra = KEYS.DOCS.get(f"{theory}:{key}")
            self.used_docs.add(f"{theory}:{key}")
            meaning = code_doc or extra
            if code_doc and extra and len(code_doc) < 16:  # a symbol or a unit: say what it is
                meaning = f"{extra} ({code_doc})"
            if not meaning:
                log.warning("config key %s of %s has no meaning: give the field doc= or add %r to "
                            "docs/_keys.py DOCS", key, theory, f"{theory}:{key}")
                meaning = ""
            allowed = _allowed_text(tp, f, per_field.get(f.name, []))
            rows.append("| " + " | ".join(_md_cell(x) for x in (
                f"`{key}`", _type_text(tp), _default_text(f), allowed, _rst_to_md(meaning))) + " |")
        out = "\n".join(rows) + "\n"
        if len(rows) == 2:
            out = ""
        if notes:
            out += "\nAlso checked: " + "; ".join(_rst_to_md(n) for n in notes) + ".\n"
        if subtables:
            out += "\nSub-tables: " + ", ".join(f"`[{s}]`" for s in subtables) + ".\n"
        return scrub(out)

    def missing(self) -> list[str]:
        """Tables of every loaded schema that no page rendered."""
        out = []
        for theory, root in self.roots.items():
            stack = [(root, "")]
            while stack:
                cls, prefix = stack.pop()
                hints = typing.get_type_hints(cls)
                own = [f for f in dataclasses.fields(cls) if f.init and not _is_table(hints[f.name])]
                if own and cls not in self.rendered:
                    out.append(f"{theory} [{prefix.rstrip('.') or '(top level)'}]")
                for f in dataclasses.fields(cls):
                    if f.init and _is_table(hints[f.name]):
                        stack.append((_unwrap_optional(hints[f.name])[0], prefix + f.name + "."))
        return out


# ------------------------------------------------------------------------------------------------
# command-line tables


def _cli_group(theory: str) -> Any:
    import typer.main

    app = _resolve(KEYS.CLI_APP, "the typer app")
    group = typer.main.get_command(app)
    cmd = getattr(group, "commands", {}).get(theory)
    if cmd is None or not hasattr(cmd, "commands"):
        raise LookupError(f"the command line has no `{theory}` group")
    return cmd


_METAVARS = {"out": "DIR", "set_": "KEY=VALUE", "set": "KEY=VALUE"}


def render_cli(theory: str) -> str:
    """The verbs of ``statmech-attn THEORY`` (click objects, duck-typed: typer may vendor click)."""
    group = _cli_group(theory)
    rows = ["| command | what it does | options |", "|---|---|---|"]
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            continue
        params = list(getattr(cmd, "params", []))
        args = " ".join((p.metavar or p.name).upper() for p in params if p.param_type_name == "argument")
        opts = []
        for p in params:
            if p.param_type_name == "option" and "--help" not in p.opts:
                opt = max(p.opts, key=len)
                if not getattr(p, "is_flag", False) and not getattr(p, "count", False):
                    opt += " " + (p.metavar or _METAVARS.get(p.name, p.name.upper().rstrip("_")))
                opts.append(f"`{opt}`")
        help_text = (cmd.help or "").strip().split("\n\n")[0].replace("\n", " ")
        usage = " ".join(x for x in ("statmech-attn", theory, name, args) if x)
        rows.append("| " + " | ".join(_md_cell(x) for x in (f"`{usage}`", help_text, ", ".join(opts))) + " |")
    return scrub("\n".join(rows) + "\n")


# ------------------------------------------------------------------------------------------------
# hooks

_TABLES = KeyTables()
_PLACEHOLDER = re.compile(r"^<!--\s*(keys|cli)\s+([\w.-]+)(?:\s+([\w.]+))?\s*-->\s*$", re.M)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    def replace(m: re.Match) -> str:
        kind, theory, table = m.group(1), m.group(2), m.group(3) or ""
        try:
            return _TABLES.render(theory, table) if kind == "keys" else render_cli(theory)
        except Exception as e:  # noqa: BLE001 - any failure is reported, and fails the strict build
            log.warning("%s: cannot render <!-- %s %s %s -->: %s", page.file.src_uri, kind, theory, table, e)
            return f"*(table unavailable: {e})*\n"

    return _PLACEHOLDER.sub(replace, markdown)


def on_page_content(html: str, **kwargs: Any) -> str:
    return scrub(html)


def on_env(env: Any, **kwargs: Any) -> Any:
    for theory in KEYS.SCHEMAS:  # every schema is loaded, so a table no page shows is found
        try:
            _TABLES.root(theory)
        except LookupError as e:
            log.warning("%s", e)
    for key in sorted(set(KEYS.DOCS) - _TABLES.used_docs):
        log.warning("docs/_keys.py DOCS has %r, which no config table rendered (renamed or removed?)", key)
    for missing in _TABLES.missing():
        log.warning("config table %s is not documented: add a <!-- keys ... --> placeholder to a page", missing)
    return env


def on_pre_build(**kwargs: Any) -> None:
    _TABLES.rendered.clear()  # `mkdocs serve` rebuilds in the same process
    _TABLES.used_docs.clear()


def on_config(config: Any, **kwargs: Any) -> Any:
    """Put the "Write your own theory" page (docs/theory.md) in the navigation once it exists."""
    nav = config.nav
    if nav is None or not (Path(config.docs_dir) / "theory.md").is_file():
        return config
    if "theory.md" in repr(nav):
        return config
    at = next((i + 1 for i, item in enumerate(nav) if isinstance(item, dict) and "Theories" in item), len(nav))
    nav.insert(at, {"Write your own theory": "theory.md"})
    return config
