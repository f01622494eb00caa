"""The derivation cache stores JSON (SymPy as srepr text) and never executes what it reads."""

import builtins
import dataclasses
import json
import os
import pickle
import stat

import pytest
import sympy as sp

from statmech_attn.derivations import _stationarity as st
from statmech_attn.derivations._stationarity import _serial
from statmech_attn.derivations.paths import derive_paths

PROBLEM = {"theory": "toy", "n": 1}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("STATMECH_ATTN_DERIVATION_CACHE", str(folder))
    return folder


class _Builds:
    def __init__(self, value=None):
        self.calls = 0
        self.value = value if value is not None else {"value": sp.Symbol("z", positive=True) ** 2, "ok": True}

    def __call__(self):
        self.calls += 1
        return self.value


class _OpensMarker:
    """Unpickling this calls open(marker, "w"), which creates the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.open, (self.marker, "w")


def _entry(payload, problem=PROBLEM, nodes=()):
    path = st.cache_path(problem)
    return {"format": _serial.FORMAT, "key": path.stem, "nodes": list(nodes), "value": payload}


def _crafted(marker):
    code = f"__import__('builtins').open({str(marker)!r}, 'w')"
    return [
        pickle.dumps(_OpensMarker(marker)),  # the old format: a pickle that runs code when loaded
        json.dumps(_entry({"sympy": code})).encode(),  # eval would run it
        json.dumps(_entry({"sympy": f"PartialTrace({code!r}, Integer(2))"})).encode(),  # sympify of a string
        json.dumps(_entry({"sympy": "Symbol('x').__class__"})).encode(),
        json.dumps(_entry({"sympy": f"Add(Symbol('x'), Lambda(Symbol('y'), {code}))"})).encode(),
        json.dumps(_entry({"dataclass": "Popen", "fields": {"args": "true"}})).encode(),
        json.dumps(_entry({"sympy": "_1"}, nodes=["Symbol('x')", f"Add(_0, {code})"])).encode(),  # in the node table
        json.dumps(_entry({"sympy": "_0"}, nodes=[f"Symbol('x')), {code}, (Symbol('y')"])).encode(),  # breaking out
    ]


@pytest.mark.parametrize("which", range(8))
def test_crafted_entry_is_not_executed_and_is_a_miss(cache, tmp_path, which):
    marker = tmp_path / "marker"
    build = _Builds()
    path = st.cache_path(PROBLEM)
    path.parent.mkdir(parents=True)
    path.write_bytes(_crafted(marker)[which])
    (path.parent / (path.stem + ".pkl")).write_bytes(_crafted(marker)[0])  # where the old cache looked
    result, hit = st.cached(PROBLEM, build)
    assert not marker.exists()
    assert not hit and build.calls == 1 and result == build.value
    # the damaged entry was overwritten by a good one
    again, hit = st.cached(PROBLEM, build)
    assert hit and again == build.value and build.calls == 1 and not marker.exists()


def test_parser_refuses_what_is_not_a_sympy_constructor():
    classes, _ = _serial._registry(st.CACHE_TYPES)
    for text in ["__import__('os')", "Symbol('x').name", "Symbol(*['x'])", "Symbol(**{'x': 1})", "Add('x', 1)",
                 "[s for s in ()]", "Integer(1) + Integer(2)", "getattr(Symbol('x'), 'name')", "lambda: 0",
                 "Symbol('x', positive='True')"]:
        with pytest.raises(_serial.DecodeError):
            _serial.parse_srepr(text, classes)
    x = sp.Symbol("x", positive=True)
    assert _serial.parse_srepr(sp.srepr(sp.log(x) / 3 - sp.Float(0.25)), classes) == sp.log(x) / 3 - sp.Float(0.25)


def test_legacy_cache_variable_creates_nothing_in_the_working_folder(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("STATMECH_ATTN_CACHE", "1")
    monkeypatch.delenv("STATMECH_ATTN_DERIVATION_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    build = _Builds()
    st.cached(PROBLEM, build)
    assert list(work.iterdir()) == []
    assert st.cache_dir() == tmp_path / "xdg" / "statmech_attn" / "derivations"
    assert len(list(st.cache_dir().glob("toy-*.json"))) == 1
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert st.cache_dir() == tmp_path / "home" / ".cache" / "statmech_attn" / "derivations"


def _fields(d):
    return {f.name: getattr(d, f.name) for f in dataclasses.fields(d) if f.name not in ("seconds", "cache_hit")}


@pytest.mark.parametrize("heads, form", [((2, 2), "matrix"), ((2, 1), "components")])
def test_round_trip_returns_the_derived_expressions(cache, heads, form):
    first = derive_paths(heads, form=form)
    loaded = derive_paths(heads, form=form)
    assert not first.cache_hit and loaded.cache_hit
    assert list(cache.glob("paths-*.json"))
    fresh = derive_paths(heads, form=form, use_cache=False)
    assert _fields(loaded) == _fields(fresh) == _fields(first)  # structural equality of every expression
    assert loaded.latex() == fresh.latex()
    assert loaded.text().splitlines()[2:] == fresh.text().splitlines()[2:]
    for a, b in zip(loaded.conditions, fresh.conditions):
        if a.fixed_point is not None and a.parameter.kind == "scalar":
            assert sp.simplify(a.fixed_point - b.fixed_point) == 0


def test_plain_data_round_trip(cache):
    value = {"latex": "\\alpha", "checks": {"a": True, "b": False}, "x": 0.1, "n": 3, "none": None,
             "pair": (1, "two"), "list": [1.5, -2]}
    build = _Builds(value)
    st.cached(PROBLEM, build)
    got, hit = st.cached(PROBLEM, build)
    assert hit and got == value and isinstance(got["pair"], tuple)
    (path,) = cache.glob("toy-*.json")
    json.loads(path.read_text())  # the entry is plain JSON


def test_corrupted_json_is_a_miss(cache):
    build = _Builds()
    st.cached(PROBLEM, build)
    (path,) = cache.glob("toy-*.json")
    for text in ['{"format": "statmech', "[]", json.dumps(_entry({"sympy": "Symbol("})), "\xff\xfe",
                 json.dumps(_entry({"sympy": "_0"}, nodes=["_0"]))]:
        path.write_text(text, encoding="latin-1")
        _, hit = st.cached(PROBLEM, build)
        assert not hit
    assert build.calls == 6
    assert st.cached(PROBLEM, build)[1]


def test_an_entry_for_another_key_is_a_miss(cache):
    build = _Builds()
    st.cached({"theory": "toy", "n": 2}, build)
    (other,) = cache.glob("toy-*.json")
    st.cache_path(PROBLEM).write_text(other.read_text())
    assert not st.cached(PROBLEM, build)[1]


def test_fifo_in_place_of_an_entry_is_a_miss(cache):
    build = _Builds()
    path = st.cache_path(PROBLEM)
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    assert not st.cached(PROBLEM, build)[1]  # does not block reading it


def test_value_the_format_cannot_hold_is_returned_uncached(cache):
    value = {"f": len}
    result, hit = st.cached(PROBLEM, _Builds(value))
    assert result is value and not hit
    assert not list(cache.glob("toy-*.json"))


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_entries_get_the_users_umask(cache, umask):
    old = os.umask(umask)
    try:
        st.cached(PROBLEM, _Builds())
    finally:
        os.umask(old)
    (path,) = cache.glob("toy-*.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert not list(cache.glob(".tmp-*"))
