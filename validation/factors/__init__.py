"""Checks of transformer-factor dictionary learning on data with a known answer.

- :func:`statmech_attn.validation.factors.planted.planted_dictionary_recovery`: states generated from a planted
  unit-norm dictionary with sparse non-negative codes; the learned dictionary is matched to the
  planted one (Hungarian matching on |cos|).
- :func:`statmech_attn.validation.factors.planted.planted_emergence`: layered states in which each planted factor
  switches on at a known layer; the importance-score curves must emerge at those layers.
- :func:`statmech_attn.validation.factors.planted.attention_stack_factors`: factors of the hidden states of a
  randomly initialised deep attention stack of this package (no download).
"""
