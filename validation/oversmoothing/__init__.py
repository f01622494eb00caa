"""Finite-stack checks of the oversmoothing theory: regimes of random stacks, and a training demo.

- :func:`validate_regimes`: random (A, H) pairs, the spectral prediction of the regime against the
  per-layer slope of log HFC/LFC measured by direct simulation of deep stacks (vmapped).
- :func:`train_regimes`: trains a small residual attention stack (optax) with H free, or through
  the sign-constrained reparameterisation, and reports the regime of the trained weights.
"""
