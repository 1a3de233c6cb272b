"""Run independent tasks on worker processes that die with this one.

The workers are started with ``spawn`` (a fresh interpreter: safe after OpenMP and numba
threads have run in this process) and ask Linux to kill them when their parent dies
(:func:`analysis.processes.die_with_parent`), so a killed build leaves no worker
behind. Results come back in task order, so sums over them do not depend on scheduling.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from analysis.processes import die_with_parent

T = TypeVar("T")


def in_order(task: Callable[[Any], T], items: Iterable[Any], n_jobs: int) -> Iterator[T]:
    """``task(item)`` for each item, yielded in the order of ``items``.

    ``n_jobs`` 1 runs them here; more starts that many workers (a picklable ``task``).
    """
    items = list(items)
    if n_jobs <= 1 or len(items) <= 1:
        yield from (task(item) for item in items)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(n_jobs, len(items)), mp_context=context,
                             initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        yield from pool.map(task, items)
