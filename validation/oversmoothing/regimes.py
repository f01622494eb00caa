"""Predicted regime vs directly simulated depth behaviour, over many random stacks."""

from __future__ import annotations

import argparse
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from statmech_attn.oversmoothing import spectrum
from statmech_attn.oversmoothing._depth import _simulate

__all__ = ["RegimeValidation", "validate_regimes", "random_stack"]


def random_stack(rng: np.random.Generator, n: int, d: int, temperature: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A softmax attention matrix A = softmax(S / T) of Gaussian scores and H ~ N(0, 1/d)."""
    s = rng.standard_normal((n, n)) / temperature
    a = np.exp(s - s.max(axis=1, keepdims=True))
    a /= a.sum(axis=1, keepdims=True)
    h = rng.standard_normal((d, d)) / np.sqrt(d)
    return a, h


@dataclasses.dataclass(frozen=True)
class RegimeValidation:
    """Outcome of :func:`validate_regimes`.

    Attributes:
        predicted_rate: log max_{λ^A≠1}|g| − log max_{λ^A=1}|g| per trial (theory).
        measured_rate: late-depth slope of log HFC/LFC per trial (simulation).
        regimes: predicted regime per trial.
        decided: trials whose |predicted_rate| exceeds ``min_rate`` (near-ties are not judged).
        agreement: fraction of judged trials that behave as predicted (decided smoothing trials:
            the simulated ratio decays; sharpening trials: it reaches the predicted limit within 1%).
        max_rate_error: max |measured − predicted| slope over decided smoothing trials.
        max_limit_error: max relative error of the deepest simulated HFC/LFC against the predicted
            limit ‖u − ū1‖/(√n|ū|) over sharpening trials (a non-symmetric A has 1ᵀu ≠ 0, so the
            ratio saturates instead of diverging).  Complex pairs make the ratio oscillate; those
            trials are judged by the sign of the slope only.
    """

    predicted_rate: np.ndarray
    measured_rate: np.ndarray
    regimes: tuple[str, ...]
    decided: np.ndarray
    agreement: float
    max_rate_error: float
    max_limit_error: float


def _late_slope(log_ratio: np.ndarray, window: float = 18.0) -> float:
    """Slope of log HFC/LFC over the last layers where |log ratio| < window (inside float64 round-off)."""
    ok = np.flatnonzero(np.isfinite(log_ratio) & (np.abs(log_ratio) < window))
    if len(ok) < 3:
        return float("nan")
    # the last contiguous run of trustworthy layers
    end = ok[-1]
    run = [end]
    for k in ok[::-1][1:]:
        if k == run[-1] - 1:
            run.append(k)
        else:
            break
    idx = np.array(run[::-1])[-40:]
    if len(idx) < 3:
        return float("nan")
    return float(np.polyfit(idx, log_ratio[idx], 1)[0])


def validate_regimes(n_trials: int = 100, n: int = 6, d: int = 4, depth: int = 300, *, seed: int = 0,
                     min_rate: float = 0.02) -> RegimeValidation:
    """Simulate ``n_trials`` random deep stacks (vmapped) and compare with the spectral prediction."""
    rng = np.random.default_rng(seed)
    pairs = [random_stack(rng, n, d) for _ in range(n_trials)]
    a = np.stack([p[0] for p in pairs])
    h = np.stack([p[1] for p in pairs])
    x0 = rng.standard_normal((n_trials, n, d)) + rng.standard_normal((n_trials, 1, d))
    sim = jax.vmap(_simulate, in_axes=(0, 0, 0, None))(jnp.asarray(a), jnp.asarray(h), jnp.asarray(x0),
                                                      jnp.arange(depth))
    log_ratio = np.log(np.asarray(sim[0]["hfc_lfc_ratio"]))
    specs = [spectrum(a[t], h[t]) for t in range(n_trials)]
    pred = np.array([s.hfc_lfc_rate for s in specs])
    meas = np.array([_late_slope(log_ratio[t]) for t in range(n_trials)])
    decided = np.abs(pred) > min_rate
    smooth = decided & np.array([s.regime == "smoothing" for s in specs])
    err = np.abs(meas[smooth] - pred[smooth])
    sharp = np.array([s.regime == "sharpening" and np.isfinite(s.hfc_lfc_limit) for s in specs])
    limit = np.array([s.hfc_lfc_limit for s in specs])
    lim_err = np.abs(np.exp(log_ratio[sharp, -1]) / limit[sharp] - 1.0)
    # smoothing: the simulated ratio must decay; sharpening: it must reach the predicted limit
    agree = np.concatenate([meas[smooth] < 0, lim_err < 1e-2])
    return RegimeValidation(pred, meas, tuple(s.regime for s in specs), decided,
                            float(np.mean(agree)) if agree.size else float("nan"),
                            float(np.nanmax(err)) if err.size else float("nan"),
                            float(np.max(lim_err)) if lim_err.size else float("nan"))


def main() -> None:
    """``python -m statmech_attn.validation.oversmoothing.regimes [--quick]``: print the agreement table."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    v = validate_regimes(n_trials=30 if args.quick else 300, seed=args.seed)
    counts = {r: v.regimes.count(r) for r in sorted(set(v.regimes))}
    print(f"regimes predicted: {counts}")
    print(f"decided trials: {int(v.decided.sum())}/{len(v.decided)}  agreement: {v.agreement:.3f}  "
          f"max |slope - predicted rate| (smoothing): {v.max_rate_error:.3g}  "
          f"max rel. error of the sharpening limit: {v.max_limit_error:.3g}")


if __name__ == "__main__":
    main()
