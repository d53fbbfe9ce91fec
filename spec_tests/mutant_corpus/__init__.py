"""The mutant corpus (issue #11 §5): realistic, independently written buggy backends, one op each,
with what the harness must say about them.

Each ``Mutant`` is a small backend exposing one op of the contract (forward, and ``vjp`` or
``<op>_backward``) that makes one mistake people actually write. None calls reference/: the
forwards are torch code (gradients by torch.autograd, so a buggy forward comes with the backward
that is consistent with it) or a few lines of NumPy, the backwards hand-written NumPy or torch.

Fields
------
id : a unique slug, ``<op>-<what>``.
op : the contract op the backend implements.
mistake : one line, what the backend does wrong, as its author would put it.
kind : "consistent-forward" (a buggy forward, its own gradient by autodiff), "backward-only"
    (a correct forward, a wrong hand-written backward), "forward-only" (a buggy forward next to a
    correct hand-written backward), "edge-only" (wrong only at x == 0, ties, kinks or large |x|),
    "geometry" (stride, padding, window, layout or output size), "float32-only" (a precision
    mistake: float32 arithmetic in a float64 run, or a formula or a reduced precision that only
    goes wrong in a float32 run; ``dtype`` is the run that shows it).
dtype : the run the mutant is checked in ("float64" unless the mistake shows only in float32).
backend : the object handed to ``conformance.runner.run``.
fails : the checks that must fail under the default cases (slide and golden); the others pass.
verdict : the self-consistency truth (DIAGNOSIS_VOCAB): "forward" (the gradient is the derivative
    of the backend's own wrong forward), "backward" (the forward is right, the backward is not its
    derivative), "forward-only" (the forward is wrong, the gradient is the true one), "both".
arrays : the arrays that come back wrong on some default case, by their vocab names (y, dx,
    dw_hh...). A check that fails by an exception (an upstream gradient of the right shape
    against a wrong-shaped output, an input of the wrong layout) returns no array, so names none.
named : the catalogue key that IS this mistake, or None when no key describes it exactly.
where, how : anatomy tags (DIAGNOSIS_VOCAB) that hold on every array of ``arrays``, on each case
    where it comes back wrong, so a right anatomy includes them; may be empty (only tags that
    surely hold are listed, not every tag that does).

``ALL`` is every mutant, family by family; ``by_id`` finds one. Mutants are expectations from
reasoning about the bug, never from running the diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ALL", "CHECKS", "FAMILIES", "KINDS", "VERDICTS", "Mutant", "by_id"]

KINDS = ("consistent-forward", "backward-only", "forward-only", "edge-only", "geometry",
         "float32-only")
VERDICTS = ("forward", "backward", "forward-only", "both")
CHECKS = ("forward", "gradient")


@dataclass(frozen=True)
class Mutant:
    """One buggy backend of one op and what the harness must find (see the module docstring)."""

    id: str
    op: str
    mistake: str
    kind: str
    backend: Any
    fails: frozenset[str]
    verdict: str
    arrays: tuple[str, ...]
    named: str | None = None
    where: tuple[str, ...] = ()
    how: tuple[str, ...] = ()
    dtype: str = "float64"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.id}: kind {self.kind!r}, expected one of {KINDS}")
        if self.verdict not in VERDICTS:
            raise ValueError(f"{self.id}: verdict {self.verdict!r}, expected one of {VERDICTS}")
        if not self.fails or not self.fails <= set(CHECKS):
            raise ValueError(f"{self.id}: fails {set(self.fails)}, expected a non-empty "
                             f"subset of {CHECKS}")
        if self.dtype not in ("float64", "float32"):
            raise ValueError(f"{self.id}: dtype {self.dtype!r}")


FAMILIES = ("activations", "linear", "losses", "convolution", "pooling", "recurrent",
            "embedding", "blind")
"""The modules of the corpus, one per op family (and ``blind``: the blind reviews' mistakes),
each with its ``MUTANTS``."""


def _all() -> tuple[Mutant, ...]:
    from importlib import import_module

    mutants = tuple(m for family in FAMILIES
                    for m in import_module(f"{__name__}.{family}").MUTANTS)
    seen: set[str] = set()
    for m in mutants:
        if m.id in seen:
            raise ValueError(f"mutant id {m.id!r} used twice")
        seen.add(m.id)
    return mutants


ALL: tuple[Mutant, ...] = _all()


def by_id(mutant_id: str) -> Mutant:
    """The mutant called ``mutant_id``."""
    for m in ALL:
        if m.id == mutant_id:
            return m
    raise KeyError(f"no mutant {mutant_id!r} in the corpus")
