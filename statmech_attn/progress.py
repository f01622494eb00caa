"""Progress bars that every layer may use: a rich bar on a terminal, silence in CI or when piped."""

from __future__ import annotations

import os
import sys
from typing import Iterable, Iterator, TypeVar

It = TypeVar("It")


def quiet() -> bool:
    """True when progress bars stay off: ``CI`` is set or stderr is not a terminal."""
    return bool(os.environ.get("CI")) or not sys.stderr.isatty()


def progress(items: Iterable[It], *, total: int | None = None, description: str = "") -> Iterator[It]:
    """Iterate over ``items``, advancing a rich progress bar per item on a terminal; silently otherwise."""
    if quiet():
        yield from items
        return
    from rich.progress import track

    yield from track(items, total=total, description=description, transient=True)
