"""Finite networks, really sampled or trained, to check the theories: one package per theory."""
