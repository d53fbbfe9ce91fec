"""The mutant corpus (spec_tests/mutant_corpus/, issue #11 §5) through the harness: every mutant
is killed by the default cases (slide and golden), exactly as it says: the checks in its
``fails`` fail, the others pass. A mutant that survived would be a promise no case keeps.

``corpus_report(mutant_id)`` is the run of one mutant, diagnosed, made once per process: the test
that the mutant is killed and the two on its diagnosis read the same report (the diagnosis only
adds to a failing result, its status is the run's). The three tests of a mutant are parametrized
at module scope, so pytest orders them next to each other and pytest -n gives them to one worker,
which then runs the mutant once. torch runs on one thread here: on a shared 2-core machine its
intra-op threads make these many small calls about 20 times slower.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

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
def corpus_report(mutant_id: str) -> Report:
    """The harness's report on one mutant: its op, the default cases, its dtype, diagnosed."""
    m = by_id(mutant_id)
    return run(m.backend, ops=[m.op], dtype=m.dtype, diagnose=True)


EACH_MUTANT = pytest.mark.parametrize("mutant", ALL, ids=[m.id for m in ALL], scope="module")
"""One test item per mutant, grouped by mutant across the tests that take it (see above)."""


def failed_checks(report: Report) -> dict[str, list[str]]:
    """check → the ids of its failing results."""
    failed: dict[str, list[str]] = {}
    for r in report.results:
        if r.status == "fail":
            failed.setdefault(r.check, []).append(r.id)
    return failed


@EACH_MUTANT
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


# ---------------------------------------------------------------- the diagnosis (issue #11 §5)
GENERIC = frozenset({"all zeros", "constant factor"})
"""Symptoms, not mechanisms: named where they describe the numbers, never counted as a mechanism
named right or wrong."""
CORE = frozenset({"forward", "backward", "forward-only", "both"})


@dataclass(frozen=True)
class Found:
    """What the diagnosis said about one mutant, over all its failing checks."""

    verdicts: frozenset[str]     # the self-consistency verdicts among CORE
    named: frozenset[str]        # mistakes named without reserve (they explain every failure
    #                              of their op and check), with those giving the same numbers
    hedged: frozenset[str]       # mistakes named "on this case only"
    arrays: frozenset[str]       # the arrays the anatomy lines describe
    where: frozenset[str]
    how: frozenset[str]
    entries: frozenset[frozenset[str]]   # the unreserved named mistakes, each with its also


@cache
def found(mutant_id: str) -> Found:
    failures = corpus_report(mutant_id).failures()
    entries = {frozenset((m.name, *m.also)) for r in failures for m in r.mistakes
               if not m.unexplained and not m.text.startswith("partly")}
    named = {n for entry in entries for n in entry}
    hedged = {n for r in failures for m in r.mistakes for n in (m.name, *m.also)} - named
    return Found(
        frozenset(r.consistency.verdict for r in failures if r.consistency
                  and r.consistency.verdict in CORE),
        frozenset(named), frozenset(hedged),
        frozenset(a.array for r in failures for a in r.anatomy),
        frozenset(t for r in failures for a in r.anatomy for t in a.where),
        frozenset(t for r in failures for a in r.anatomy for t in a.how), frozenset(entries))


def misleading(mutant: Mutant) -> set[str]:
    """Mechanisms named without reserve that are not the mutant's mistake. An entry that names
    the mistake together with others giving the very same numbers ("...; or, with the same
    numbers on this case, ...") says so and misleads no one."""
    return {n for entry in found(mutant.id).entries if mutant.named not in entry
            for n in entry - GENERIC}


COMPATIBLE = {"forward": {"forward"}, "backward": {"backward"},
              "forward-only": {"forward-only"}, "both": {"both", "forward-only"}}
"""The verdicts a case may get for a mutant's truth: a mutant whose forward and backward are
both wrong can be right in its backward on one case (the gradient check passes there)."""


NOT_NAMED = {
    "rnn-w_ih-transposed": "fails by an exception (x_t @ w_ih with w_ih of the other shape): "
                           "no values to diagnose; the reason names the shapes, the narrowed "
                           "line that the crash needs D ≠ H",
}
"""Catalogue mutants the diagnosis does not name without reserve, with why (a listed mutant that
gets named fails its test: the list cannot rot)."""

VERDICT_MISSES = {
    "tanh-clip-300": "in float32 the clip leaves tanh nan at large |x| where autodiff's gradient "
                     "is the clip's 0: a finite gradient of a non-finite forward is read as not "
                     "its derivative ('both', the truth 'forward')",
    "relu-flattened": "the forward flattens its output next to the spec's backward: probed along "
                      "an upstream of the flat shape, the backward cannot take it on some cases "
                      "and on one-axis cases the flattening changes nothing",
    "embedding-flattened": "as relu-flattened: on the flat shape the backward is read as the "
                           "forward's derivative ('forward', the truth 'forward-only')",
}
"""Mutants whose self-consistency verdict is not the truth on every failing case, with why."""

TAG_MISSES = {
    "softmax-no-shift": "every row of the failing case holds a large logit, so 'large' is no "
                        "place (the rest is empty): the anatomy says 'everywhere'",
    "softmax-shift-by-mean": "as softmax-no-shift",
}
"""Mutants whose expected anatomy tags are not all found, with why."""


@EACH_MUTANT
def test_the_diagnosis_never_names_another_mechanism(mutant: Mutant) -> None:
    assert not misleading(mutant), (
        f"{mutant.id} ({mutant.mistake}) named {sorted(misleading(mutant))}")


@EACH_MUTANT
def test_the_diagnosis_says_where_to_look(mutant: Mutant) -> None:
    """The verdict says which of forward and backward is wrong, the anatomy names every wrong
    array and the places and relations the mutant's mistake makes, and a catalogue mistake is
    named, each unless listed above with its reason."""
    f = found(mutant.id)
    assert set(mutant.arrays) <= f.arrays, f"{mutant.id}: anatomy of {sorted(f.arrays)}"
    tags = set(mutant.where) <= f.where and set(mutant.how) <= f.how
    assert tags != (mutant.id in TAG_MISSES), (
        f"{mutant.id}: where {sorted(f.where)}, how {sorted(f.how)}")
    right = f.verdicts <= COMPATIBLE[mutant.verdict]
    assert right != (mutant.id in VERDICT_MISSES), (
        f"{mutant.id}: verdicts {sorted(f.verdicts)}, the truth {mutant.verdict}")
    if mutant.named is not None:
        named = mutant.named in f.named
        assert named != (mutant.id in NOT_NAMED), (
            f"{mutant.id}: named {sorted(f.named)}, hedged {sorted(f.hedged)}, the truth "
            f"{mutant.named}")


def test_the_figures_of_the_readme() -> None:
    """The README's figures of the diagnosis on the corpus, from the lists above."""
    in_catalogue = [m for m in ALL if m.named is not None]
    named_right = len(in_catalogue) - len(NOT_NAMED)
    assert named_right / len(in_catalogue) >= 0.9
    assert (len(ALL) - len(VERDICT_MISSES)) / len(ALL) >= 0.9
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert (f"{len(ALL)} mutants, all killed; {named_right} of the {len(in_catalogue)} in the "
            f"catalogue named right, none misleading; the self-consistency verdict right on "
            f"{len(ALL) - len(VERDICT_MISSES)}") in " ".join(readme.split())
