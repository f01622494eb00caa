"""Time to a first answer: each verb as a new process, against a bare JAX start in the same run.

    python benchmarks/first_answer.py [--json OUT] [--repeat N] [--profile]

Measures, each as a new process (wall seconds):

- the baseline: ``python -c "import jax, jax.numpy as jnp; jnp.ones(3).sum().block_until_ready()"``,
  ``max(3, --repeat)`` runs before the commands and as many after (the median of all);
- ``statmech-attn paths solve examples/paths_hmm.toml`` on a fresh compilation cache (a new, empty
  ``XDG_CACHE_HOME``) and again on the warm one it left;
- ``statmech-attn potts replica examples/potts_replica.toml`` on a fresh cache;
- ``statmech-attn version``, ``statmech-attn --help``, ``statmech-attn paths plot RUN`` (RUN made
  once first with ``--out``) and a config error (``--set model.temperature=-1``).

Every command runs ``--repeat`` times (default 3) and the median is reported; a fresh-cache run gets a
new empty cache folder each time, and each warm ``paths solve`` runs on the folder its fresh run left.

Prints command, seconds, ratio to the baseline, the issue's target ratio and whether it is met.
``--profile`` adds, per verb, the top imports of ``python -X importtime`` and a split of the wall
time into imports / tracing and lowering / XLA compilation / the rest (from JAX's monitoring
events).  Every process runs with ``JAX_PLATFORMS=cpu`` and a cache folder of its own under a
temporary directory: nothing is read from or written to the user's cache or the working directory.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
BASELINE_CODE = "import jax, jax.numpy as jnp; jnp.ones(3).sum().block_until_ready()"
_CACHE_VARS = ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
               "JAX_COMPILATION_CACHE_MAX_SIZE", "STATMECH_ATTN_CACHE")

# (key, label, target ratio to the baseline)
TARGETS = {
    "paths_solve_fresh": ("paths solve examples/paths_hmm.toml (fresh cache)", 4.0),
    "paths_solve_warm": ("paths solve examples/paths_hmm.toml (warm cache)", 2.0),
    "potts_replica_fresh": ("potts replica examples/potts_replica.toml (fresh cache)", 4.0),
    "version": ("version", 1.0),
    "help": ("--help", 1.0),
    "paths_plot": ("paths plot RUN", 1.0),
    "config_error": ("paths solve ... --set model.temperature=-1 (config error)", 1.0),
}

# run inside `python -X importtime -c`: the CLI's main() with JAX's compile events summed
_PROFILE_WRAPPER = r"""
import importlib.abc, importlib.util, json, os, sys, time
t0 = time.perf_counter()
durations = {}

def _listen(event, duration, **kw):
    durations[event] = durations.get(event, 0.0) + duration

class _Hook(importlib.abc.MetaPathFinder):
    # registers the listener as soon as JAX's monitoring module is imported (never imports JAX itself)
    def find_spec(self, name, path=None, target=None):
        if name != "jax._src.monitoring":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            module.register_event_duration_secs_listener(_listen)
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, _Hook())
sys.argv = ["statmech-attn"] + json.loads(os.environ["FIRST_ANSWER_ARGV"])
rc = 0
try:
    from statmech_attn.cli import main
    t_cli = time.perf_counter()
    main()
except SystemExit as e:
    rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
finally:
    with open(os.environ["FIRST_ANSWER_PROFILE"], "w") as f:
        json.dump({"wall": time.perf_counter() - t0, "durations": durations, "rc": rc}, f)
"""


def cli_executable() -> list[str]:
    """The console script of this interpreter's environment (what a user runs)."""
    here = Path(sys.executable).parent / "statmech-attn"
    if here.exists():
        return [str(here)]
    found = shutil.which("statmech-attn")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from statmech_attn.cli import main; sys.exit(main())"]


def base_env(cache_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _CACHE_VARS}
    env["JAX_PLATFORMS"] = "cpu"
    env["XDG_CACHE_HOME"] = str(cache_home)
    env.pop("CI", None)
    return env


def timed(cmd: list[str], env: dict[str, str], cwd: Path, expect_rc: int = 0) -> dict:
    t0 = time.perf_counter()
    before = os.times()
    out = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    if out.returncode != expect_rc:
        raise SystemExit(f"{' '.join(cmd)} exited {out.returncode} (expected {expect_rc}):\n{out.stderr[-2000:]}")
    return {"seconds": wall, "cpu_seconds": cpu, "rc": out.returncode}


def median_of(n: int, cmd: list[str], env: dict[str, str], cwd: Path, expect_rc: int = 0) -> dict:
    runs = [timed(cmd, env, cwd, expect_rc) for _ in range(n)]
    return {"seconds": statistics.median(r["seconds"] for r in runs),
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
            "runs": [round(r["seconds"], 3) for r in runs]}


def verbs(run_dir: Path) -> dict[str, tuple[list[str], int, str]]:
    """key -> (CLI arguments, expected exit code, cache: 'fresh' | 'warm' | 'any')."""
    paths_cfg = str(EXAMPLES / "paths_hmm.toml")
    return {
        "paths_solve_fresh": (["paths", "solve", paths_cfg], 0, "fresh"),
        "paths_solve_warm": (["paths", "solve", paths_cfg], 0, "warm"),
        "potts_replica_fresh": (["potts", "replica", str(EXAMPLES / "potts_replica.toml")], 0, "fresh"),
        "version": (["version"], 0, "any"),
        "help": (["--help"], 0, "any"),
        "paths_plot": (["paths", "plot", str(run_dir)], 0, "any"),
        "config_error": (["paths", "solve", paths_cfg, "--set", "model.temperature=-1"], 2, "any"),
    }


def measure(repeat: int, work: Path) -> dict:
    cli = cli_executable()
    cwd = work / "cwd"
    cwd.mkdir()
    out: dict = {}
    base_cmd = [sys.executable, "-c", BASELINE_CODE]
    n_base = max(3, repeat)
    before = [timed(base_cmd, base_env(work / "cache_baseline"), cwd) for _ in range(n_base)]
    print(f"baseline (bare JAX): {statistics.median(r['seconds'] for r in before):.2f} s", flush=True)

    # the run folder for `paths plot`, made once (its own cache: it must not warm the fresh runs)
    run_dir = work / "run"
    timed(cli + ["paths", "solve", str(EXAMPLES / "paths_hmm.toml"), "--out", str(run_dir)],
          base_env(work / "cache_setup"), cwd)

    table_ = verbs(run_dir)
    # fresh and warm: `repeat` pairs, each on a new empty cache folder (fresh) and then on the one it left (warm)
    pairs = [(timed(cli + table_["paths_solve_fresh"][0], base_env(work / f"cache_paths_{r}"), cwd),
              timed(cli + table_["paths_solve_warm"][0], base_env(work / f"cache_paths_{r}"), cwd)) for r in range(repeat)]
    for key, (args, rc, cache) in table_.items():
        if key in ("paths_solve_fresh", "paths_solve_warm"):
            runs = [p[0 if key == "paths_solve_fresh" else 1] for p in pairs]
            res = {"seconds": statistics.median(r["seconds"] for r in runs),
                   "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
                   "runs": [round(r["seconds"], 3) for r in runs]}
        elif cache == "fresh":
            runs = [timed(cli + args, base_env(work / f"cache_{key}_{r}"), cwd, rc) for r in range(repeat)]
            res = {"seconds": statistics.median(r["seconds"] for r in runs),
                   "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
                   "runs": [round(r["seconds"], 3) for r in runs]}
        else:
            res = median_of(repeat, cli + args, base_env(work / "cache_setup"), cwd, rc)
        out[key] = res
        label, target = TARGETS[key]
        print(f"  {label}: {res['seconds']:.2f} s", flush=True)
    # the baseline again at the end: its median over both ends is what every ratio divides by
    runs = before + [timed(base_cmd, base_env(work / "cache_baseline"), cwd) for _ in range(n_base)]
    out["baseline"] = {"seconds": statistics.median(r["seconds"] for r in runs),
                       "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
                       "runs": [round(r["seconds"], 3) for r in runs]}
    print(f"baseline (bare JAX, median of {len(runs)} runs, before and after): {out['baseline']['seconds']:.2f} s  "
          f"{out['baseline']['runs']}", flush=True)
    if any(cwd.iterdir()):
        print(f"warning: files left in the working directory: {sorted(p.name for p in cwd.iterdir())}")
    return out


def table(results: dict) -> list[dict]:
    base = results["baseline"]["seconds"]
    rows = [{"key": "baseline", "command": f'python -c "{BASELINE_CODE}"', "seconds": base,
             "cpu_seconds": results["baseline"]["cpu_seconds"], "ratio": 1.0, "target": None, "met": None}]
    for key, (label, target) in TARGETS.items():
        s = results[key]["seconds"]
        rows.append({"key": key, "command": f"statmech-attn {label}", "seconds": s,
                     "cpu_seconds": results[key]["cpu_seconds"], "ratio": s / base,
                     "target": target, "met": s / base <= target})
    return rows


def print_table(rows: list[dict]) -> None:
    w = max(len(r["command"]) for r in rows)
    print(f"\n{'command':<{w}}  {'seconds':>8}  {'cpu s':>7}  {'ratio':>6}  {'target':>7}  met")
    for r in rows:
        target = "" if r["target"] is None else f"<={r['target']:g}x"
        met = "" if r["met"] is None else ("yes" if r["met"] else "no")
        print(f"{r['command']:<{w}}  {r['seconds']:8.2f}  {r['cpu_seconds']:7.2f}  {r['ratio']:5.2f}x  {target:>7}  {met}")


# --------------------------------------------------------------------------------------------
# --profile: where the time goes


_IMPORT_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def top_imports(stderr: str, n: int = 8) -> tuple[float, list[tuple[str, float, str]]]:
    """From ``-X importtime`` output: (total import seconds, [(package, seconds, imported by)]), the
    packages with the largest own import time (self times of all their modules summed), each with
    the innermost ``statmech_attn`` module on the import chain that first loaded it (the place to
    make the import lazy)."""
    entries = []
    for line in stderr.splitlines():
        m = _IMPORT_LINE.match(line)
        if m:
            entries.append((int(m[1]), (len(m[3]) - 1) // 2, m[4]))
    total = sum(e[0] for e in entries) / 1e6
    own: dict[str, int] = {}
    importer: dict[str, str] = {}
    last_at: dict[int, str] = {}
    # importtime prints a module after its imports (post-order): reversed, a module's parent is the
    # latest module seen one level up
    for self_us, level, name in reversed(entries):
        last_at[level] = name
        root = name.split(".")[0]
        own[root] = own.get(root, 0) + self_us
        if name == root and root != "statmech_attn":
            chain = [last_at[k] for k in range(level) if k in last_at and last_at[k].split(".")[0] != root]
            ours = [c for c in chain if c.startswith("statmech_attn")]
            by = ours[-1] if ours else (chain[-1] if chain else "(top level)")
            importer[root] = by if not chain or chain[-1] == by else f"{by} (via {chain[-1]})"
    ranked = sorted(own.items(), key=lambda kv: -kv[1])[:n]
    return total, [(k, v / 1e6, importer.get(k, "?")) for k, v in ranked]


def profile(work: Path) -> dict:
    cwd = work / "cwd_profile"
    cwd.mkdir()
    run_dir = work / "run_profile"
    cli = cli_executable()
    timed(cli + ["paths", "solve", str(EXAMPLES / "paths_hmm.toml"), "--out", str(run_dir)],
          base_env(work / "cache_profile_setup"), cwd)
    report = {}
    fresh_paths = work / "cache_profile_paths"
    for key, (args, rc, cache) in verbs(run_dir).items():
        env = base_env(fresh_paths if key.startswith("paths_solve") else
                       work / f"cache_profile_{key}" if cache == "fresh" else work / "cache_profile_setup")
        env["FIRST_ANSWER_ARGV"] = json.dumps(args)
        env["FIRST_ANSWER_PROFILE"] = str(work / f"profile_{key}.json")
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-X", "importtime", "-c", _PROFILE_WRAPPER], env=env, cwd=cwd,
                             capture_output=True, text=True)
        wall = time.perf_counter() - t0
        prof = json.loads(Path(env["FIRST_ANSWER_PROFILE"]).read_text())
        imports_s, tops = top_imports(out.stderr)
        d = prof["durations"]
        trace = sum(v for k, v in d.items() if k in ("/jax/core/compile/jaxpr_trace_duration",
                                                      "/jax/core/compile/jaxpr_to_mlir_module_duration"))
        compile_s = d.get("/jax/core/compile/backend_compile_duration", 0.0)
        cache_read = d.get("/jax/compilation_cache/cache_retrieval_time_sec", 0.0)
        rest = max(0.0, prof["wall"] - imports_s - trace - compile_s)
        report[key] = {"wall": wall, "in_process": prof["wall"], "imports": imports_s, "trace_lower": trace,
                       "xla_compile": compile_s, "cache_read": cache_read, "rest": rest,
                       "top_imports": tops, "rc": prof["rc"]}
        label = TARGETS[key][0]
        print(f"\n{label}: wall {wall:.2f} s (in process {prof['wall']:.2f} s; -X importtime inflates imports)")
        print(f"  imports {imports_s:.2f} s | tracing+lowering {trace:.2f} s | XLA compile {compile_s:.2f} s"
              f" (of which cache reads {cache_read:.2f} s) | rest {rest:.2f} s")
        print("  imports by package (own seconds; first imported by):")
        for k, v, by in tops:
            print(f"    {k:<16} {v:5.2f}  <- {by}")
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", metavar="OUT", help="save the figures as JSON")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each command (the median is reported; "
                    "fresh-cache runs each on a new empty cache folder)")
    ap.add_argument("--profile", action="store_true", help="also: per verb, top imports and the time split")
    args = ap.parse_args()
    print(f"{_dt.date.today()}  python {platform.python_version()}  {platform.machine()}  "
          f"{os.cpu_count()} cores  CLI: {' '.join(cli_executable())}", flush=True)
    with tempfile.TemporaryDirectory(prefix="first_answer_") as tmp:
        work = Path(tmp)
        results = measure(args.repeat, work)
        rows = table(results)
        print_table(rows)
        prof = profile(work) if args.profile else None
    if args.json:
        import jax

        record = {"date": _dt.datetime.now().isoformat(timespec="seconds"), "python": platform.python_version(),
                  "jax": jax.__version__, "cpus": os.cpu_count(), "machine": platform.machine(),
                  "rows": rows, "raw": results, "profile": prof}
        Path(args.json).write_text(json.dumps(record, indent=2))
        print(f"\nwritten {args.json}")


if __name__ == "__main__":
    main()
