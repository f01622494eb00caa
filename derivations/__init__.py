"""Symbolic derivations (SymPy): one module per theory.

Each module builds the action / free energy of its theory from symbols, derives the stationarity
(saddle-point, replica) equations, emits LaTeX and JAX callables that the numeric solvers of
``statmech_attn`` use or are checked against.
"""
