"""Validation of the attention-path theory against finite networks (issue 8).

``network`` (the finite network in JAX), ``sample`` (NumPyro NUTS), ``train`` (gradient descent
and Langevin dynamics with optax), ``compare`` (theory vs simulation, N-scaling), ``plots``.
Importing the package switches JAX to float64 (through :mod:`statmech_attn`).
"""

import statmech_attn as _statmech_attn  # noqa: F401  (enables jax_enable_x64)
