"""Working through a batch in blocks of images: the one place where the reference runs threads.

Why
---
conv2d and max/average pooling treat every image of a batch on its own, and the obvious
vectorised form works on the whole batch at once. Two things make that slow on a CPU:

* whole-batch temporaries are large: conv2d's im2col matrix for 32 images of 16×32×32 with a 3×3
  kernel is 37 MB in float64, so every pass over it streams through main memory, while the same
  matrix for 2–3 images (2.4–3.5 MB) stays in cache;
* NumPy runs each elementwise operation on one core (only its matrix products use more).

So these kernels hand ``for_each_block`` a function of one block of the batch (a ``slice`` of the
batch axis), and the blocks run on as many threads as BLAS is set to use (NumPy releases the GIL
inside its loops and matrix products): the calling thread and ``threads() − 1`` helpers each take
the next block not yet taken until none is left. The caller starts on the first block at once, so
a helper that is slow to wake up (a sleeping thread on a busy or virtual machine can take longer
than a block) costs nothing but its share of the work: traced at 2 threads under load, a pool of
two helpers, with the caller only waiting, often ran every block on one helper after a 0.2 ms
wake-up, slower than one thread.

Side effect
-----------
While blocks run side by side, every BLAS library that threadpoolctl finds in the process is held
to one thread, so that the two levels of threads do not fight over the cores (as scikit-learn does
around its own parallel loops), and the setting is restored when the last block has finished.
That setting is process-wide: a matrix product that another thread of the process computes
meanwhile runs on one thread too. nnspec's own parallel sections take turns (a lock). A batch that
fits in one block (every small input, so nearly every test) runs in the calling thread as plain
NumPy and changes nothing.

Guarantees
----------
* The blocks depend only on the batch size and the bytes one image needs, never on the number of
  threads, and a block's partial sums (as conv2d's ∂L/∂W) come back in block order for the caller
  to add: a batch of several blocks gives the same bits on 1 thread or 8. (A batch of one block is
  plain NumPy, whose matrix products may differ in the last bits with BLAS's thread count.)
* An exception in a block is raised in the caller after every block has finished.
* A child made by ``os.fork`` starts with no pool and no lock held, whenever it is forked.
* To change the number of threads, change BLAS's: ``threadpoolctl.threadpool_limits(1)`` (or
  OPENBLAS_NUM_THREADS=1 before NumPy is imported) makes the reference single-threaded too.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, TypeVar

from threadpoolctl import ThreadpoolController

__all__ = ["BLOCK_BYTES", "blocks", "for_each_block", "threads"]

R = TypeVar("R")
_PREFIX = "nnspec-block"                        # the names of the helper threads
_inside = threading.local()                     # .section: this thread is running blocks

BLOCK_BYTES = 4 << 20
"""The bytes of temporaries one block may use: 4 MiB, so that two blocks at a time stay in the
L2/L3 caches of a current CPU (measured on the benchmark's conv2d, one thread: blocks of this size
took 18–29 % less time than the whole batch at once, and were the fastest of 0.5, 1, 2, 4 and
8 MiB or within 3 % of it, in float64 and float32, on 1 and 2 threads)."""


def blocks(n: int, item_bytes: int, budget: int | None = None) -> list[slice]:
    """The batch axis [0, n) cut into consecutive slices of about ``budget`` bytes each.

    The count is ⌈n·item_bytes / budget⌉ rounded up to a multiple of 4 (at most n, at least 1),
    so that 2 or 4 threads get equal shares; the sizes differ by at most one item. ``budget``
    defaults to BLOCK_BYTES (read at each call, so a test can shrink it).
    """
    budget = BLOCK_BYTES if budget is None else budget
    count = -(-n * max(1, item_bytes) // budget)          # ⌈n·item / budget⌉
    if count > 1:
        count = min(n, -(-count // 4) * 4)
    count = max(1, count)                                 # an empty batch is one empty block
    edges = [i * n // count for i in range(count + 1)]
    return [slice(lo, hi) for lo, hi in itertools.pairwise(edges)]


class _BlockThreads:
    """Threads for the blocks, and the BLAS libraries' thread setting."""

    def __init__(self) -> None:
        self.lock = threading.Lock()              # one parallel section at a time (see run)
        self.workers = 0                          # the threads the executor was made with
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
        # could leave it at one thread. The executor (workers − 1 helpers: the caller is the
        # other worker) is made again when the number of threads changes.
        with self.lock:
            if self.executor is None or self.workers != workers:
                if self.executor is not None:
                    self.executor.shutdown(wait=False)
                self.executor = ThreadPoolExecutor(workers - 1, thread_name_prefix=_PREFIX)
                self.workers = workers
            outcomes: list[tuple[bool, Any]] = [(False, None)] * len(parts)
            todo = iter(range(len(parts)))
            take = threading.Lock()

            def take_blocks() -> None:            # until none is left: the next block, its outcome
                _inside.section = True
                try:
                    while True:
                        with take:
                            i = next(todo, None)
                        if i is None:
                            return
                        try:
                            outcomes[i] = (True, work(parts[i]))
                        except BaseException as error:  # raised below, once every block is done
                            outcomes[i] = (False, error)
                finally:
                    _inside.section = False

            with self.controller().limit(limits=1):
                helpers = [self.executor.submit(take_blocks) for _ in range(workers - 1)]
                take_blocks()                     # the caller works too, from the first block on
                wait(helpers)
        for done, value in outcomes:              # the first block's error, in block order
            if not done:
                raise value
        return [value for _, value in outcomes]


_POOL = _BlockThreads()


def _forget_pool_in_child() -> None:  # pragma: no cover (runs in the child only)
    # A forked child has only the thread that forked: no pool threads, and possibly a lock that
    # one of the parent's threads was holding. It starts again with a fresh pool.
    global _POOL
    _POOL = _BlockThreads()


if hasattr(os, "register_at_fork"):               # POSIX; there is no fork on Windows
    os.register_at_fork(after_in_child=_forget_pool_in_child)


def threads() -> int:
    """The number of threads the blocks run on: the BLAS libraries' setting, the smallest if
    several are loaded (1 if none is found)."""
    return _POOL.threads()


def for_each_block(n: int, item_bytes: int, work: Callable[[slice], R]) -> list[R]:
    """``[work(block) for block in blocks(n, item_bytes)]``, the blocks run on ``threads()``
    threads when there is more than one block and more than one thread.

    ``work`` must only read shared inputs and write to its own block of the outputs; what it
    returns comes back in block order. An exception in a block is raised here once every block
    has finished (the first in block order).
    """
    parts = blocks(n, item_bytes)
    workers = threads() if len(parts) > 1 else 1
    if workers == 1 or getattr(_inside, "section", False):
        return [work(part) for part in parts]   # (inside a block already: no second level)
    return _POOL.run(work, parts, workers)
