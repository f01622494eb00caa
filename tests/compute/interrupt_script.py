"""Run a slow toy grid on a 2-worker LocalCluster until interrupted (used by the Ctrl-C test)."""

from __future__ import annotations

import sys
import time

from statmech_attn.compute import Grid, run_grid

from .toy import fixed_point_task


def slow_task(ctx: dict, points: list[dict], seed: int) -> list:
    time.sleep(0.3)
    return fixed_point_task(ctx, points, seed)


if __name__ == "__main__":
    grid = Grid.of(along="alpha", chunk=1, alpha=[round(0.05 * i, 2) for i in range(1, 61)])
    try:
        run_grid(slow_task, {}, grid, out=sys.argv[1], scheduler="local:2")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(0)
