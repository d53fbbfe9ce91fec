"""The mutant corpus (spec_tests/mutant_corpus/, issue #11 §5) through the harness: every mutant
is killed by the default cases (slide and golden), exactly as it says: the checks in its
``fails`` fail, the others pass. A mutant that survived would be a promise no case keeps.

``corpus_report(mutant_id)`` is the run of one mutant (the diagnosis off here, for speed); the
assertions on its diagnosis build on it. torch runs on one thread here: on a shared 2-core
machine its intra-op threads make these many small calls about 20 times slower.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from functools import cache

import pytest
import torch

from conformance.contract import OPS
from conformance.report import Report
from conformance.runner import run
from spec_tests.mutant_corpus import ALL, KINDS, Mutant, by_id
from spec_tests.mutant_corpus.recurrent import CONTROLS

pytestmark = pytest.mark.infrastructure


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@cache
def corpus_report(mutant_id: str, diagnose: bool = False) -> Report:
    """The harness's report on one mutant: its op, the default cases, its dtype."""
    m = by_id(mutant_id)
    return run(m.backend, ops=[m.op], dtype=m.dtype, diagnose=diagnose)


def failed_checks(report: Report) -> dict[str, list[str]]:
    """check → the ids of its failing results."""
    failed: dict[str, list[str]] = {}
    for r in report.results:
        if r.status == "fail":
            failed.setdefault(r.check, []).append(r.id)
    return failed


@pytest.mark.parametrize("mutant", ALL, ids=[m.id for m in ALL])
def test_mutant_is_killed_as_it_says(mutant: Mutant) -> None:
    report = corpus_report(mutant.id)
    failed = failed_checks(report)
    assert set(failed) == set(mutant.fails), (
        f"{mutant.id} ({mutant.mistake}): expected {sorted(mutant.fails)} to fail, failed "
        f"{ {k: v[:3] for k, v in failed.items()} }")
    skipped = [r.id for r in report.results if r.status == "skip"]
    assert not skipped, f"{mutant.id}: checks skipped (not implemented): {skipped[:3]}"


def test_corpus_covers_every_op_and_kind() -> None:
    assert len(ALL) >= 150
    assert set(OPS) <= {m.op for m in ALL}, set(OPS) - {m.op for m in ALL}
    kinds = Counter(m.kind for m in ALL)
    assert set(kinds) == set(KINDS), kinds
    outside = sum(m.named is None for m in ALL)
    assert outside >= len(ALL) // 3, f"only {outside} of {len(ALL)} mistakes outside the catalogue"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CONTROLS))
def test_the_cells_the_recurrent_mutants_change_pass_unchanged(name: str, dtype: str) -> None:
    """The step-by-step torch cells and the NumPy BPTT, without a mistake, pass: each recurrent
    mutant fails by its own mistake, not by its scaffolding."""
    report = run(CONTROLS[name], ops=[name.split("-")[0]], dtype=dtype, diagnose=False)
    assert report.results and all(r.status == "pass" for r in report.results), [
        r.line() for r in report.results if r.status != "pass"][:3]
