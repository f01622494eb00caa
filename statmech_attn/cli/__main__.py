"""``python -m statmech_attn.cli ...`` runs the command line."""

from . import main

main()
