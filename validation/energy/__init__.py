"""Finite-cloud checks of log-sum-exp attention: parallel expansion, LN contraction, ascent.

:mod:`statmech_attn.validation.energy.expansion` draws many random token clouds (vmapped) and measures how
often a self-attention update shrinks a token (never for a centred cloud, by Chebyshev's sum
inequality; sometimes for an uncentred one), the ascent inequality, and the norms after LN.
"""
