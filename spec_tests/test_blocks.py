"""Blocks of the batch (reference._blocks): conv2d and pooling work through a batch a few images
at a time, on BLAS's threads; the blocks never depend on the thread count, so neither do the
results."""

from __future__ import annotations

import itertools
import multiprocessing
import threading

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
    assert all(name.startswith("nnspec-block") for name, _ in seen)
    assert all(set(counts) == {1} for _, counts in seen)


def test_blocks_inside_a_block_run_in_that_block_s_thread() -> None:
    def inner(part: slice) -> str:
        return threading.current_thread().name

    def outer(part: slice) -> set[str]:
        return set(B.for_each_block(4, B.BLOCK_BYTES // 2, inner))

    with threadpool_limits(2, user_api="blas"):
        got = B.for_each_block(4, B.BLOCK_BYTES // 2, outer)       # would deadlock otherwise
    assert all(len(names) == 1 and next(iter(names)).startswith("nnspec-block") for names in got)


def test_with_one_blas_thread_the_blocks_run_in_order_in_the_calling_thread() -> None:
    names: list[str] = []

    def work(part: slice) -> int:
        names.append(threading.current_thread().name)
        return part.start

    with threadpool_limits(1, user_api="blas"):
        assert B.for_each_block(8, B.BLOCK_BYTES // 2, work) == [0, 2, 4, 6]
    assert set(names) == {threading.current_thread().name}


def test_a_new_thread_count_gets_a_new_pool_and_errors_propagate() -> None:
    def fails(part: slice) -> None:
        raise ValueError(f"block {part.start}")

    for count in (2, 3):
        with threadpool_limits(count, user_api="blas"):
            B.for_each_block(6, B.BLOCK_BYTES // 2, lambda part: part.start)
            assert B._POOL.key[1] == count
            with pytest.raises(ValueError, match="block 0"):
                B.for_each_block(6, B.BLOCK_BYTES // 2, fails)


def _child_conv(queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    x = np.arange(2 * 8 * 5 * 5, dtype=float).reshape(2, 8, 5, 5)
    with threadpool_limits(2, user_api="blas"):
        queue.put(conv.conv2d(x, np.ones((1, 8, 3, 3))).sum())


def test_a_forked_child_makes_its_own_pool(tiny_blocks: None) -> None:
    with threadpool_limits(2, user_api="blas"):
        B.for_each_block(4, 2048, lambda part: part.start)        # the parent's pool exists
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_conv, args=(queue,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0, "the child hung or failed on the inherited pool"
    x = np.arange(2 * 8 * 5 * 5, dtype=float).reshape(2, 8, 5, 5)
    assert queue.get(timeout=5) == conv.conv2d(x, np.ones((1, 8, 3, 3))).sum()


def _case(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"x": rng.normal(size=(5, 3, 9, 6)), "w": rng.normal(size=(4, 3, 3, 2)),
            "b": rng.normal(size=4), "dy": rng.normal(size=(5, 4, 4, 7)),
            "dp": rng.normal(size=(5, 3, 4, 3))}


def _everything(a: dict[str, np.ndarray]) -> list[np.ndarray]:
    geometry = {"stride": (2, 1), "padding": (0, 1)}
    out = [conv.conv2d(a["x"], a["w"], a["b"], **geometry),
           *[g for g in conv.conv2d_backward(a["dy"], a["x"], a["w"], a["b"], **geometry)
             if g is not None]]
    x = a["x"][:, :, :8]                                          # [5, 3, 8, 6]
    for pool in ("max", "avg", "l2"):
        for window, stride in ((2, None), ((2, 4), (2, 1))):      # tiling, and overlapping
            out.append(getattr(pooling, f"{pool}_pool2d")(x, window, stride))
            out.append(getattr(pooling, f"{pool}_pool2d_backward")(a["dp"], x, window, stride))
    return out


def test_results_are_the_same_bits_for_any_thread_count(tiny_blocks: None) -> None:
    a = _case(np.random.default_rng(0))
    with threadpool_limits(1, user_api="blas"):
        serial = _everything(a)
    with threadpool_limits(2, user_api="blas"):
        parallel = _everything(a)
    for got, want in zip(parallel, serial, strict=True):
        np.testing.assert_array_equal(got, want)


def test_blocks_give_the_whole_batch_result(monkeypatch: pytest.MonkeyPatch) -> None:
    a = _case(np.random.default_rng(1))
    whole = _everything(a)
    monkeypatch.setattr(B, "BLOCK_BYTES", 1024)
    for got, want in zip(_everything(a), whole, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
