"""Working through a batch in blocks of images: the one place where the reference runs threads.

Why
---
conv2d and pooling treat every image of a batch on its own, and the obvious vectorised form works
on the whole batch at once. Two things make that slow on a CPU:

* whole-batch temporaries are large: conv2d's im2col matrix for 32 images of 16×32×32 with a 3×3
  kernel is 37 MB in float64, so every pass over it streams through main memory, while the same
  matrix for 4 images (4.7 MB) stays in cache;
* NumPy runs each elementwise operation on one core (only its matrix products use more).

So these kernels hand ``for_each_block`` a function of one block of the batch (a ``slice`` of the
batch axis), and the blocks run on as many threads as NumPy's BLAS is set to use (NumPy releases
the GIL inside its loops and matrix products). While blocks run side by side, BLAS is held to one
thread each (threadpoolctl), so that the two levels of threads do not fight over the cores.

Guarantees
----------
* The blocks depend only on the batch size and the bytes one image needs, never on the number of
  threads: results are bit-for-bit the same with 1 thread or 8 (a block's partial sums, as conv2d's
  ∂L/∂W, are returned in block order for the caller to add).
* A batch that fits in one block (every small input, so nearly every test) runs in the calling
  thread, as plain NumPy.
* To change the number of threads, change BLAS's: ``threadpoolctl.threadpool_limits(1)`` (or
  OPENBLAS_NUM_THREADS=1 before NumPy is imported) makes the reference single-threaded too.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from threadpoolctl import ThreadpoolController

__all__ = ["BLOCK_BYTES", "blocks", "for_each_block", "threads"]

R = TypeVar("R")
_PREFIX = "nnspec-block"                        # the names of the threads that run blocks

BLOCK_BYTES = 4 << 20
"""The bytes of temporaries one block may use: 4 MiB, so that two blocks at a time stay in the
L2/L3 caches of a current CPU (measured on the benchmark's conv2d: blocks of 2–8 images ran 25–40 %
faster than the whole batch, one thread)."""


def blocks(n: int, item_bytes: int, budget: int | None = None) -> list[slice]:
    """The batch axis [0, n) cut into consecutive slices of about ``budget`` bytes each.

    The count is ⌈n·item_bytes / budget⌉ rounded up to a multiple of 4 (at most n), so that 2 or
    4 threads get equal shares; the sizes differ by at most one item. ``budget`` defaults to
    BLOCK_BYTES (read at each call, so a test can shrink it).
    """
    budget = BLOCK_BYTES if budget is None else budget
    count = -(-n * max(1, item_bytes) // budget)          # ⌈n·item / budget⌉
    if count > 1:
        count = min(n, -(-count // 4) * 4)
    edges = [i * n // count for i in range(count + 1)]
    return [slice(lo, hi) for lo, hi in itertools.pairwise(edges)]


class _Pool:
    """Threads for the blocks, and BLAS's thread setting, found once per process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()              # one parallel section at a time (see run)
        self.key = (-1, 0)                        # (process id, threads) the executor was made for
        self.executor: ThreadPoolExecutor | None = None
        self.blas: ThreadpoolController | None = None

    def controller(self) -> ThreadpoolController:
        if self.blas is None:
            self.blas = ThreadpoolController().select(user_api="blas")
        return self.blas

    def threads(self) -> int:
        counts = [lib.num_threads for lib in self.controller().lib_controllers]
        return max(1, min(counts)) if counts else 1

    def run(self, work: Callable[[slice], R], parts: list[slice], workers: int) -> list[R]:
        # One caller at a time: two callers limiting and restoring BLAS's setting concurrently
        # could leave it at one thread. The executor is made again when the number of threads
        # changes and after a fork (a child inherits the executor object but not its threads).
        with self.lock:
            if self.executor is None or self.key != (os.getpid(), workers):
                if self.executor is not None and self.key[0] == os.getpid():
                    self.executor.shutdown(wait=False)
                self.executor = ThreadPoolExecutor(workers, thread_name_prefix=_PREFIX)
                self.key = (os.getpid(), workers)
            with self.controller().limit(limits=1):
                return list(self.executor.map(work, parts))


_POOL = _Pool()


def threads() -> int:
    """The number of threads the blocks run on: NumPy's BLAS setting (1 if no BLAS is found)."""
    return _POOL.threads()


def for_each_block(n: int, item_bytes: int, work: Callable[[slice], R]) -> list[R]:
    """``[work(block) for block in blocks(n, item_bytes)]``, the blocks run on ``threads()``
    threads when there is more than one block and more than one thread.

    ``work`` must only read shared inputs and write to its own block of the outputs; what it
    returns comes back in block order. Exceptions propagate to the caller.
    """
    parts = blocks(n, item_bytes)
    workers = threads() if len(parts) > 1 else 1
    if workers == 1 or threading.current_thread().name.startswith(_PREFIX):
        return [work(part) for part in parts]   # (inside a block already: no second level)
    return _POOL.run(work, parts, workers)
