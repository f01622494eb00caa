"""One execution layer for grids: sweeps and validation grids, serial or on dask.distributed.

A *grid* is the cartesian product of named axes (``alpha`` × ``seed`` × ``width`` ...).  Its points
are computed by *tasks*; a task is a pure function

    task_fn(context, points, seed) -> [PointOutput | dict, ...]     (one output per point)

of a picklable ``context`` (the resolved config, or a problem built from it), a *chunk* of
neighbouring grid points (consecutive values of the continuation axis ``along``, every other
coordinate equal) and an integer seed.  Continuation (warm starts along α) therefore stays inside a
task and is not lost by distribution.  Chunk boundaries are fixed by positions along the ``along``
axis of the grid (``chunk`` values per task), never by the number of workers, so every scheduler
computes the same chunks and gives the same numbers.

With a run directory ``DIR`` each point is written atomically as its own file,
``DIR/points/<key>.json`` (+ ``DIR/points/<key>.npz`` for arrays), as soon as its task finishes;
``DIR/points/_grid.json`` records the grid and the resolved *non-grid* config (and its SHA-256).
The verb then assembles ``result.json`` from those files.  ``resume=True`` computes only the points
whose files are missing (or whose task raised), which also *extends* a grid to which α values or
seeds were added; a changed non-grid config is refused with an :class:`InputError` naming the first
changed key.  A point whose solver fails is recorded with its ``result`` and the grid goes on.
Ctrl-C leaves no partial file (every write is a temporary file + rename).

Schedulers (``--scheduler`` or the ``[compute]`` table, :class:`ComputeConfig`):

- ``serial`` (default): tasks run in this process; dask is not imported.
- ``local`` / ``local:N``: a ``dask.distributed.LocalCluster`` with N worker processes (default:
  ``[compute] workers``, else the number of cores), one thread each, and XLA/BLAS limited to one
  thread per worker (environment set before the workers start).  A worker that dies is restarted
  by its nanny and its task is rerun elsewhere.
- ``tcp://HOST:PORT`` (or ``tls://``): an existing dask scheduler, e.g. one started by
  dask-jobqueue on SLURM/PBS.  Workers must be able to import ``statmech_attn``.
"""


from ._grid import Grid as Grid
from ._grid import GridResult as GridResult
from ._grid import PointOutput as PointOutput
from ._grid import PointRecord as PointRecord
from ._grid import point_key as point_key
from ._grid import run_grid as run_grid
from ._schedulers import GRID_FILE as GRID_FILE
from ._schedulers import ComputeConfig as ComputeConfig
from ._schedulers import Scheduler as Scheduler
from ._schedulers import dask_setup as dask_setup
from ._schedulers import local_cluster as local_cluster
from ._schedulers import parse_scheduler as parse_scheduler
from ._schedulers import resolve_scheduler as resolve_scheduler
from ._schedulers import single_thread_environ as single_thread_environ
