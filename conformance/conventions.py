"""Declared conventions: where frameworks legitimately differ, checked rather than excused.

On a few points the lecture leaves a choice that frameworks make differently, each for good
reasons: where a max-pool window sends its gradient when its maximum is tied, whether a GRU
resets its state before or after the matrix product, step(0), the slope taken at the kink of
relu and of the max margin, and whether cross-entropy is the mean or the sum over the batch. The
spec takes one variant of each (CONVENTIONS, the first listed below); the reference computes
every variant (``ties``, ``reset_after``, ``at_zero``, ``at_kink``, ``reduction`` of its
functions), and a backend declares the variants it follows as data::

    conventions = {"max_pool_ties": "split"}        # an attribute of the backend object
    nnspec run --backend mypkg:ops --convention max_pool_ties=split

nnspec then checks the cases a declared variant changes against that variant: a backend that
declares "split" and splits passes them as "pass (declared: max-pool ties split)"; one that
declares "split" and sends the gradient to the first maximum fails them. A difference that is
not declared fails, and its diagnosis names the declaration that would describe the backend.
Layouts (NHWC, gate orders) are not conventions: converting them is an adapter's job.

How it works: ``reference_for(declared)`` is the reference with the declared variants bound (its
own ``conventions`` attribute says which), and the runner hands it to every check in place of
the reference; ``under`` gives a case the expected values of the variants in force where they
differ from the spec's, and says for which checks they do.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from conformance.backends import Bound
from conformance.cases import Case, complete
from conformance.contract import Check
from reference.tolerance import compare

__all__ = ["CONVENTIONS", "Convention", "Variant", "alternatives", "declaration", "declared_by",
           "given", "markdown", "parse", "reference_for", "says", "under", "validated"]


@dataclass(frozen=True)
class Variant:
    """One way of settling a convention.

    ``says`` is how a declared pass shows ("max-pool ties split"); ``options`` the keyword options
    of the reference's functions (conformance.adapters.numpy_backend) that compute it, by
    function name (empty for the spec's variant).
    """

    name: str
    says: str
    text: str
    who: str = ""
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Convention:
    """A point on which frameworks legitimately differ: the op it concerns and its variants, the
    spec's first."""

    name: str
    op: str
    about: str
    claim: str
    variants: tuple[Variant, ...]

    @property
    def spec(self) -> Variant:
        """The spec's variant (what a backend that declares nothing is checked against)."""
        return self.variants[0]

    def variant(self, name: str) -> Variant:
        found = next((v for v in self.variants if v.name == name), None)
        if found is None:
            raise ValueError(f"convention {self.name} has no variant {name!r}; its variants are "
                             f"{', '.join(v.name for v in self.variants)}")
        return found


def _on(functions: tuple[str, ...], **options: Any) -> dict[str, dict[str, Any]]:
    return {f: dict(options) for f in functions}


CONVENTIONS: dict[str, Convention] = {c.name: c for c in (
    Convention(
        "max_pool_ties", "max_pool2d",
        "where a max-pool window sends its gradient when its maximum occurs more than once",
        "convention.pooling", (
            Variant("first", "max-pool ties first",
                    "a window's gradient sent whole to its first maximum in row-major order",
                    "PyTorch on the CPU, JAX, Keras"),
            Variant("last", "max-pool ties last",
                    "a window's gradient sent whole to its last maximum in row-major order", "",
                    _on(("max_pool2d_backward",), ties="last")),
            Variant("split", "max-pool ties split",
                    "a window's gradient split equally between its k tied maxima (1/k each)",
                    "tinygrad", _on(("max_pool2d_backward",), ties="split")))),
    Convention(
        "gru_reset", "gru",
        "whether the GRU's reset gate applies after the hidden matrix product, "
        "r ∘ (W_hn h + b_hn), or before it, W_hn (r ∘ h) + b_hn",
        "convention.gru-reset-after", (
            Variant("after", "GRU reset after",
                    "the reset gate applied after the product, "
                    "n = tanh(W_in x + b_in + r ∘ (W_hn h + b_hn))",
                    "torch.nn.GRU, Keras reset_after=True, ONNX linear_before_reset=1"),
            Variant("before", "GRU reset before",
                    "the reset gate applied before the product, "
                    "n = tanh(W_in x + b_in + W_hn (r ∘ h) + b_hn) (the original GRU of Cho et "
                    "al., 2014)",
                    "Keras reset_after=False, ONNX's default",
                    _on(("gru", "gru_backward"), reset_after=False)))),
    Convention(
        "step_at_zero", "step", "the value of the threshold function at 0",
        "convention.step-at-zero", (
            Variant("one", "step(0) = 1",
                    "step(0) = 1 (the threshold sits at 0: step(x) = 1 where x ≥ 0)",
                    "the lecture"),
            Variant("zero", "step(0) = 0", "step(0) = 0 (step(x) = 1 only where x > 0)",
                    "torch.heaviside(x, 0)", _on(("step",), at_zero=0.0)),
            Variant("half", "step(0) = ½", "step(0) = ½ (the half-maximum convention)",
                    "numpy.heaviside(x, 0.5)", _on(("step",), at_zero=0.5)))),
    Convention(
        "relu_grad_at_zero", "relu",
        "the slope relu takes at 0, where any value in [0, 1] is a subgradient",
        "convention.relu-at-zero", (
            Variant("zero", "relu'(0) = 0", "relu'(0) = 0", "PyTorch, JAX"),
            Variant("one", "relu'(0) = 1", "relu'(0) = 1 (the gradient passed where x = 0)",
                    "", _on(("relu_backward",), at_zero=1.0)),
            Variant("half", "relu'(0) = ½", "relu'(0) = ½", "",
                    _on(("relu_backward",), at_zero=0.5)))),
    Convention(
        "max_margin_kink", "max_margin",
        "the slope the max margin J = max(0, Δ + s_c − s) takes at its kink Δ + s_c − s = 0, "
        "where any value in [0, 1] is a subgradient",
        "convention.margin-delta", (
            Variant("zero", "max-margin kink slope 0",
                    "the slope 0 at the kink Δ + s_c − s = 0: (∂J/∂s, ∂J/∂s_c) = (0, 0), the "
                    "window needs no update", "relu in PyTorch and JAX"),
            Variant("one", "max-margin kink slope 1",
                    "the slope 1 at the kink Δ + s_c − s = 0: (∂J/∂s, ∂J/∂s_c) = (−1, +1)",
                    "torch.clamp(·, min=0)", _on(("max_margin_backward",), at_kink=1.0)),
            Variant("half", "max-margin kink slope ½",
                    "the slope ½ at the kink Δ + s_c − s = 0: (∂J/∂s, ∂J/∂s_c) = (−½, +½)",
                    "jnp.maximum(0, ·), torch.maximum(0, ·)",
                    _on(("max_margin_backward",), at_kink=0.5)))),
    Convention(
        "cross_entropy_reduction", "cross_entropy",
        "how cross-entropy reduces over the batch", "convention.ce-mean", (
            Variant("mean", "cross-entropy mean", "the mean over the N rows of the batch",
                    "PyTorch's and Keras's default"),
            Variant("sum", "cross-entropy sum",
                    "the sum over the N rows of the batch (N times the mean)",
                    "reduction='sum'",
                    _on(("cross_entropy", "cross_entropy_backward"), reduction="sum")))),
)}
"""The declarable conventions, by name; each variant's text says what it computes."""


# ---------------------------------------------------------------- declarations
def parse(text: str) -> tuple[str, str]:
    """``"max_pool_ties=split"`` → ("max_pool_ties", "split") (the CLI's --convention), checked
    against CONVENTIONS."""
    name, sep, variant = text.partition("=")
    if not sep or not name.strip() or not variant.strip():
        raise ValueError(f"--convention wants NAME=VARIANT (e.g. max_pool_ties=split), got "
                         f"{text!r}; the conventions are {_listing()}")
    declared = validated({name.strip(): variant.strip()}, "--convention")
    return next(iter(declared.items()))


def validated(declared: Any, what: str) -> dict[str, str]:
    """A declaration checked: a mapping convention name → variant name, every name known. A
    ValueError (TypeError for something that is no mapping of strings) says what is wrong and
    lists what is known."""
    if declared is None:
        return {}
    if not isinstance(declared, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in declared.items()):
        raise TypeError(f"{what} must map convention names to variant names (strings), e.g. "
                        f"{{'max_pool_ties': 'split'}}; got {type(declared).__name__} "
                        f"{declared!r}"[:300])
    for name, variant in declared.items():
        if name not in CONVENTIONS:
            raise ValueError(f"{what}: unknown convention {name!r}; the conventions are "
                             f"{_listing()}")
        try:
            CONVENTIONS[name].variant(variant)
        except ValueError as exc:
            raise ValueError(f"{what}: {exc}") from None
    return dict(declared)


def _listing() -> str:
    return "; ".join(f"{c.name} ({', '.join(v.name for v in c.variants)})"
                     for c in CONVENTIONS.values())


def given(declarations: Mapping[str, str] | Iterable[str] | None) -> dict[str, str]:
    """Declarations given to a run (the CLI's --convention, run(conventions=...)): a mapping
    name → variant or "NAME=VARIANT" strings, checked."""
    if declarations is None:
        return {}
    if isinstance(declarations, Mapping):
        return validated(declarations, "conventions")
    if isinstance(declarations, str):
        declarations = [declarations]
    return dict(parse(text) for text in declarations)


def declared_by(backend: Any) -> dict[str, str]:
    """What ``backend`` (a Bound or an Isolated backend) declares: its ``conventions``
    attribute, checked. Of a reference (``reference_for``): the variants it computes."""
    return validated(getattr(backend, "declared", None), f"{backend.name}.conventions")


def declaration(name: str, variant: str) -> str:
    """How to declare a variant, in words a user can paste."""
    return (f"--convention {name}={variant}, or conventions = {{{name!r}: {variant!r}}} on the "
            f"backend")


# ---------------------------------------------------------------- the reference of a declaration
class _DeclaredReference:
    """The numpy backend with the options of declared variants bound to its functions."""

    def __init__(self, declared: Mapping[str, str]) -> None:
        from conformance.adapters import numpy_backend

        self._module = numpy_backend
        self.conventions = dict(declared)
        self.name, self.version = numpy_backend.name, numpy_backend.version
        self._options: dict[str, dict[str, Any]] = {}
        for conv, variant in declared.items():
            for function, options in CONVENTIONS[conv].variant(variant).options.items():
                self._options.setdefault(function, {}).update(options)

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._module, attr)
        options = self._options.get(attr)
        return functools.partial(value, **options) if options else value


@functools.cache
def _reference(declared: frozenset[tuple[str, str]]) -> Bound:
    from conformance.backends import load_backend

    if not declared:
        return load_backend("numpy")
    return Bound(_DeclaredReference(dict(declared)), "numpy")


def reference_for(declared: Mapping[str, str] | None = None) -> Bound:
    """The reference computing the declared variants (the spec's where nothing is declared, or
    where the spec's variant is)."""
    chosen = {k: v for k, v in validated(declared, "conventions").items()
              if v != CONVENTIONS[k].spec.name}
    return _reference(frozenset(chosen.items()))


def under(case: Case, reference: Bound | None
          ) -> tuple[Case, dict[Check, tuple[tuple[str, str], ...]]]:
    """``case`` with the expected values of ``reference``'s variants where they differ from the
    spec's, and for each check they differ in, the conventions (name, variant) that make it.

    A case no variant in force touches (or no reference: the spec's) is returned as it is, with
    {}. Differ means beyond the check's float64 tolerance: a declared variant that computes the
    same numbers on a case (no tie in any window) leaves it an ordinary check.
    """
    declared = {} if reference is None else declared_by(reference)
    relevant = tuple((n, v) for n, v in declared.items() if CONVENTIONS[n].op == case.op)
    if not relevant:
        return case, {}
    spec = complete(case, reference_for())
    variant = complete(replace(case, expected=None, expected_grads=None), reference)
    marks: dict[Check, tuple[tuple[str, str], ...]] = {}
    expected, grads = spec.expected, spec.expected_grads
    pairs: tuple[tuple[Check, Any, Any], ...] = (
        ("forward", spec.expected, variant.expected),
        ("gradient", spec.expected_grads, variant.expected_grads))
    for check, ours, theirs in pairs:
        if ours is None or theirs is None:
            continue
        tol = case.tolerance_for(check, np.float64)
        if all(compare(theirs[k], ours[k], tol).ok for k in ours):
            continue
        marks[check] = relevant
        if check == "forward":
            expected = theirs
        else:
            grads = theirs
    return replace(spec, expected=expected, expected_grads=grads), marks


def alternatives(conv: Convention, reference: Bound) -> tuple[Variant, Iterator[tuple[
        Variant, Bound]]]:
    """For the diagnosis: the variant of ``conv`` that ``reference`` computes, and every other,
    with the reference that computes it (the other declarations kept)."""
    declared = declared_by(reference)
    current = conv.variant(declared.get(conv.name, conv.spec.name))
    return current, ((v, reference_for({**declared, conv.name: v.name}))
                     for v in conv.variants if v is not current)


def says(marks: Iterable[tuple[str, str]]) -> str:
    """``max-pool ties split`` (the declared variants that judged a check, as shown)."""
    return ", ".join(CONVENTIONS[n].variant(v).says for n, v in marks)


# ---------------------------------------------------------------- documentation
def markdown() -> str:
    """The README's table of the declarable conventions (checked there by a test)."""
    rows = ["| convention | op | variants (the spec's first) | who does what |",
            "|---|---|---|---|"]
    for conv in CONVENTIONS.values():
        variants = "<br>".join(f"`{v.name}`: {v.text}" for v in conv.variants)
        who = "<br>".join(f"`{v.name}`: {v.who}" for v in conv.variants if v.who)
        rows.append(f"| `{conv.name}`: {conv.about} | `{conv.op}` | {variants} | {who} |")
    return "\n".join(rows) + "\n"
