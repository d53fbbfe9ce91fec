"""Blocks of the batch (reference._blocks): conv2d and pooling work through a batch a few images
at a time, on BLAS's threads; the blocks never depend on the thread count, so neither do the
results."""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import time
from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from reference import _blocks as B
from reference import conv, pooling

pytestmark = pytest.mark.infrastructure


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


@pytest.fixture
def tiny_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A budget of 1 KiB: every image is a block of its own."""
    monkeypatch.setattr(B, "BLOCK_BYTES", 1024)


@pytest.mark.parametrize(("n", "item", "budget", "sizes"), [
    (10, 100, 400, [2, 3, 2, 3]),               # ⌈1000/400⌉ = 3 blocks, rounded up to 4
    (32, 100, 1000, [8] * 4),                   # ⌈3200/1000⌉ = 4 blocks, a multiple of 4
    (32, 100, 700, [4] * 8),                    # ⌈3200/700⌉ = 5, rounded up to 8
    (3, 100, 1000, [3]),                        # one block
    (3, 5000, 1000, [1, 1, 1]),                 # never more blocks than items
    (1, 1, 1, [1]),
    (0, 100, 1000, [0]),                        # an empty batch is one empty block
])
def test_blocks_cut_the_batch_into_an_even_count_of_near_equal_slices(
        n: int, item: int, budget: int, sizes: list[int]) -> None:
    parts = B.blocks(n, item, budget)
    assert [p.stop - p.start for p in parts] == sizes
    assert parts[0].start == 0 and parts[-1].stop == n
    assert all(a.stop == b.start for a, b in itertools.pairwise(parts))


def test_the_default_budget_is_read_at_each_call(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(B.blocks(64, B.BLOCK_BYTES // 8)) == 8
    item = B.BLOCK_BYTES // 8
    monkeypatch.setattr(B, "BLOCK_BYTES", B.BLOCK_BYTES // 2)
    assert len(B.blocks(64, item)) == 16


def test_threads_follow_blas_setting() -> None:
    with threadpool_limits(1, user_api="blas"):
        assert B.threads() == 1
    with threadpool_limits(2, user_api="blas"):
        assert B.threads() == 2


def test_one_block_runs_in_the_calling_thread_without_touching_blas() -> None:
    seen: list[tuple[str, list[int]]] = []

    def work(part: slice) -> int:
        seen.append((threading.current_thread().name, _blas_threads()))
        return part.stop

    with threadpool_limits(2, user_api="blas"):
        assert B.for_each_block(3, 10, work) == [3]
    assert seen == [(threading.current_thread().name, [2] * len(_blas_threads()))]


def test_blocks_run_on_blas_threads_holding_blas_to_one_and_come_back_in_order() -> None:
    seen: list[tuple[str, list[int]]] = []
    lock = threading.Lock()

    def work(part: slice) -> tuple[int, int]:
        with lock:
            seen.append((threading.current_thread().name, _blas_threads()))
        return part.start, part.stop

    with threadpool_limits(2, user_api="blas"):
        got = B.for_each_block(8, B.BLOCK_BYTES // 2, work)       # blocks of 2 images
        assert _blas_threads() == [2] * len(_blas_threads())       # restored afterwards
    assert got == [(0, 2), (2, 4), (4, 6), (6, 8)]
    caller = threading.current_thread().name
    assert all(name == caller or name.startswith("nnspec-block") for name, _ in seen)
    assert all(set(counts) == {1} for _, counts in seen)


def test_the_caller_and_a_helper_run_blocks_side_by_side() -> None:
    """With 2 threads, two blocks run at the same time, one of them in the calling thread: each
    block waits at a barrier for a second one (a section that ran its blocks one at a time, or
    left the caller idle, would time out there)."""
    both = threading.Barrier(2, timeout=20)
    names: set[str] = set()

    def work(part: slice) -> int:
        names.add(threading.current_thread().name)
        both.wait()
        return part.start

    with threadpool_limits(2, user_api="blas"):
        assert B.for_each_block(8, B.BLOCK_BYTES // 2, work) == [0, 2, 4, 6]
    caller = threading.current_thread().name
    assert caller in names and any(name.startswith("nnspec-block") for name in names), names


def test_blocks_inside_a_block_run_in_that_block_s_thread(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(B, "_POOL", B._BlockThreads())            # a deadlock stays in there
    monkeypatch.setattr(B, "threads", lambda: 2)
    got: list[tuple[str, set[str]]] = []

    def inner(part: slice) -> str:
        return threading.current_thread().name

    both = threading.Barrier(2, timeout=20)                     # so the caller runs one too

    def outer(part: slice) -> tuple[str, set[str]]:
        both.wait()
        return (threading.current_thread().name,
                set(B.for_each_block(4, B.BLOCK_BYTES // 2, inner)))

    caller = threading.Thread(target=lambda: got.extend(B.for_each_block(4, B.BLOCK_BYTES // 2,
                                                                           outer)), daemon=True)
    caller.start()
    caller.join(timeout=20)
    assert not caller.is_alive(), "blocks inside a block deadlocked"
    assert len(got) == 4
    assert all(names == {name} for name, names in got)
    assert any(not name.startswith("nnspec-block") for name, _ in got)   # the caller's, too


def test_with_one_blas_thread_the_blocks_run_in_order_in_the_calling_thread() -> None:
    names: list[str] = []

    def work(part: slice) -> int:
        names.append(threading.current_thread().name)
        return part.start

    with threadpool_limits(1, user_api="blas"):
        assert B.for_each_block(8, B.BLOCK_BYTES // 2, work) == [0, 2, 4, 6]
    assert set(names) == {threading.current_thread().name}


def test_a_new_thread_count_gets_a_new_pool() -> None:
    for count in (2, 3):
        with threadpool_limits(count, user_api="blas"):
            assert B.for_each_block(6, B.BLOCK_BYTES // 2, lambda part: part.start) == [0, 1, 3, 4]
            assert B._POOL.workers == count


def test_an_error_is_raised_after_every_block_has_finished_and_blas_is_restored() -> None:
    finished: list[int] = []

    def work(part: slice) -> None:
        if part.start == 0:
            raise ValueError("block 0")
        time.sleep(0.05)
        finished.append(part.start)

    with threadpool_limits(2, user_api="blas"):
        with pytest.raises(ValueError, match="block 0"):
            B.for_each_block(8, B.BLOCK_BYTES // 2, work)
        assert sorted(finished) == [2, 4, 6]                      # none still running
        assert _blas_threads() == [2] * len(_blas_threads())


def _child_conv(queue: Any) -> None:
    x = np.arange(2 * 8 * 5 * 5, dtype=float).reshape(2, 8, 5, 5)
    with threadpool_limits(2, user_api="blas"):
        queue.put(conv.conv2d(x, np.ones((1, 8, 3, 3))).sum())


def _fork_child_conv() -> tuple[float, int | None]:
    """conv2d of several blocks in a forked child: (its sum, the child's exit code); fails the
    test if the child hangs."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_conv, args=(queue,), daemon=True)
    child.start()
    child.join(timeout=20)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung on the pool it inherited")
    return float(queue.get(timeout=5)), child.exitcode


def test_a_forked_child_makes_its_own_pool(tiny_blocks: None) -> None:
    x = np.arange(2 * 8 * 5 * 5, dtype=float).reshape(2, 8, 5, 5)
    want = conv.conv2d(x, np.ones((1, 8, 3, 3))).sum()
    with threadpool_limits(2, user_api="blas"):
        B.for_each_block(4, 2048, lambda part: part.start)        # the parent's pool exists
    assert _fork_child_conv() == (want, 0)


def test_a_child_forked_during_a_parallel_section_makes_its_own_pool(tiny_blocks: None) -> None:
    x = np.arange(2 * 8 * 5 * 5, dtype=float).reshape(2, 8, 5, 5)
    want = conv.conv2d(x, np.ones((1, 8, 3, 3))).sum()
    started, forked = threading.Event(), threading.Event()

    def work(part: slice) -> None:                                # holds the section open
        started.set()
        forked.wait(timeout=30)

    with threadpool_limits(2, user_api="blas"):
        section = threading.Thread(target=B.for_each_block, args=(4, 2048, work), daemon=True)
        section.start()                                           # another thread holds the lock
        assert started.wait(timeout=20)
        try:
            got = _fork_child_conv()                              # forked by this (main) thread
        finally:
            forked.set()
            section.join(timeout=20)
    assert got == (want, 0)


def _case(rng: np.random.Generator, dtype: Any = np.float64) -> dict[str, np.ndarray]:
    shapes = {"x": (10, 3, 9, 6), "w": (4, 3, 3, 2), "b": (4,), "dy": (10, 4, 4, 7),
              "dp": (10, 3, 4, 3)}
    return {name: rng.normal(size=shape).astype(dtype) for name, shape in shapes.items()}


GEOMETRY = ((2, 1), (0, 1))                                       # stride, padding
POOLS = ((2, 2), (2, 2)), ((2, 4), (2, 1))                        # tiling, and overlapping


def _everything(a: dict[str, np.ndarray], conv_budget: int, pool_budget: int,
                monkeypatch: pytest.MonkeyPatch) -> list[np.ndarray]:
    """Every blocked kernel on the case, with the block budgets given (bytes)."""
    monkeypatch.setattr(B, "BLOCK_BYTES", conv_budget)
    (sh, sw), (ph, pw) = GEOMETRY
    out = [conv._conv2d_forward(a["x"], a["w"], a["b"], (sh, sw), (ph, pw), (4, 7)),
           *conv._conv2d_backward(a["dy"], a["x"], a["w"], (sh, sw), (ph, pw))]
    monkeypatch.setattr(B, "BLOCK_BYTES", pool_budget)
    x = a["x"][:, :, :8]                                          # [10, 3, 8, 6]
    for window, stride in POOLS:
        geometry = (window, stride, (4, 3))
        out += [pooling._max_pool(x, *geometry), pooling._avg_pool(x, *geometry),
                pooling._max_pool_backward(a["dp"], x, *geometry),
                pooling._avg_pool_backward(a["dp"], x, *geometry)]
    return out


# one image's bytes in float64: conv2d 3·3·2 · 4·7 · 8 = 4032 (im2col), pooling 3·8·6 · 8 = 1152
BUDGETS = {"one image a block": (1, 1), "2 or 3 images a block": (12_000, 3_000)}


@pytest.mark.parametrize("budgets", BUDGETS.values(), ids=BUDGETS.keys())
def test_several_blocks_give_the_same_bits_on_one_thread_and_on_two(
        budgets: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    a = _case(np.random.default_rng(0))
    with threadpool_limits(1, user_api="blas"):
        serial = _everything(a, *budgets, monkeypatch)
    with threadpool_limits(2, user_api="blas"):
        parallel = _everything(a, *budgets, monkeypatch)
    for got, want in zip(parallel, serial, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("budgets", BUDGETS.values(), ids=BUDGETS.keys())
def test_blocks_give_the_whole_batch_result(budgets: tuple[int, int], dtype: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    a = _case(np.random.default_rng(1), dtype)
    whole = _everything(a, 1 << 40, 1 << 40, monkeypatch)
    assert len(B.blocks(10, 4032 * np.dtype(dtype).itemsize // 8, budgets[0])) > 1
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for got, want in zip(_everything(a, *budgets, monkeypatch), whole, strict=True):
        assert got.dtype == want.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_the_kernels_take_an_empty_batch() -> None:
    x, w, dy = np.zeros((0, 2, 4, 4)), np.ones((3, 2, 3, 3)), np.zeros((0, 3, 2, 2))
    assert conv._conv2d_forward(x, w, None, (1, 1), (0, 0), (2, 2)).shape == (0, 3, 2, 2)
    dx, dw, db = conv._conv2d_backward(dy, x, w, (1, 1), (0, 0))
    assert dx.shape == x.shape and np.array_equal(dw, np.zeros_like(w))
    assert np.array_equal(db, np.zeros(3))
    assert pooling._max_pool(x, (2, 2), (2, 2), (2, 2)).shape == (0, 2, 2, 2)
    assert pooling._avg_pool(x, (2, 2), (2, 2), (2, 2)).shape == (0, 2, 2, 2)
    assert pooling._max_pool_backward(np.zeros((0, 2, 2, 2)), x, (2, 2), (2, 2),
                                      (2, 2)).shape == x.shape
    assert pooling._avg_pool_backward(np.zeros((0, 2, 2, 2)), x, (2, 2), (2, 2),
                                      (2, 2)).shape == x.shape


def test_public_functions_give_the_same_results_in_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    a = _case(np.random.default_rng(2))
    x = a["x"][:, :, :8]
    stride, padding = GEOMETRY

    def public() -> list[np.ndarray]:
        return [conv.conv2d(a["x"], a["w"], a["b"], stride, padding),
                *conv.conv2d_backward(a["dy"], a["x"], a["w"], a["b"], stride, padding),
                *[getattr(pooling, name)(*args, 2) for name, args in (
                    ("max_pool2d", (x,)), ("avg_pool2d", (x,)), ("l2_pool2d", (x,)),
                    ("max_pool2d_backward", (a["dp"], x)), ("avg_pool2d_backward", (a["dp"], x)),
                    ("l2_pool2d_backward", (a["dp"], x)))]]

    whole = public()
    monkeypatch.setattr(B, "BLOCK_BYTES", 3_000)
    for got, want in zip(public(), whole, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
