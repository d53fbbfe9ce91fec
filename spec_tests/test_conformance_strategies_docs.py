"""Tests of the strategies' documentation (conformance.strategies): the package docstring lists
every family it re-exports, every public strategy's docstring states its sizes, bounds and dtype,
and the ``op_cases`` example (a drawn case completed by the reference) runs and can fail."""

from __future__ import annotations

import inspect
import pkgutil
import textwrap
from collections.abc import Callable
from importlib import import_module
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

import conformance.strategies as S

pytestmark = pytest.mark.infrastructure

FAMILIES = sorted(m.name for m in pkgutil.iter_modules(S.__path__))
STRATEGIES = [name for name in S.__all__ if inspect.isfunction(getattr(S, name))]
SIZES_ONLY = {"shapes", "conv_geometries", "pool_geometries"}   # draw ints, no arrays


def test_the_package_docstring_lists_and_reexports_every_family() -> None:
    doc = S.__doc__ or ""
    assert FAMILIES, "no strategy submodules found"
    missing = [f for f in FAMILIES if f"``{f}``" not in doc]
    assert missing == [], f"families not listed in conformance.strategies' docstring: {missing}"
    for family in FAMILIES:
        names = import_module(f"conformance.strategies.{family}").__all__
        absent = [n for n in names if n not in S.__all__ or not hasattr(S, n)]
        assert absent == [], f"conformance.strategies does not re-export {family}.{absent}"


@pytest.mark.parametrize("name", STRATEGIES)
def test_every_strategy_docstring_states_its_parameters_bounds_and_dtype(name: str) -> None:
    fn = getattr(S, name)
    doc = " ".join((fn.__doc__ or "").split())           # docstrings wrap lines: join them
    params = inspect.signature(fn).parameters.values()
    unnamed = [p.name for p in params if p.kind is p.KEYWORD_ONLY and f"``{p.name}" not in doc]
    assert unnamed == [], f"{name}'s docstring does not say what {unnamed} bound(s)"
    for p in params:
        if p.name in ("bound", "side"):
            default = f"``{p.name}`` = {p.default:g} by default"
            assert default in doc, f"{name}'s docstring does not state {default!r}"
    if name not in SIZES_ONLY:
        assert "float64" in doc or "int64" in doc, f"{name}'s docstring names no dtype"


def _example(fn: Callable[..., Any]) -> str:
    """The first ``::`` code block of fn's docstring, dedented."""
    lines = (fn.__doc__ or "").splitlines()
    start = next(i for i, line in enumerate(lines) if line.rstrip().endswith("::")) + 1
    block = []
    for line in lines[start:]:
        if line.strip() and not line.startswith(" " * 8):
            break
        block.append(line)
    return textwrap.dedent("\n".join(block))


def _run_op_cases_example(my_linear: Callable[..., np.ndarray]) -> None:
    namespace: dict[str, Any] = {"given": given, "np": np, "op_cases": S.op_cases,
                                 "my_linear": my_linear}
    exec(compile(_example(S.op_cases), "<op_cases example>", "exec"), namespace)
    settings(database=None, max_examples=10)(namespace["test_my_linear"])()


def test_the_op_cases_example_completes_a_drawn_case_and_passes_a_correct_layer() -> None:
    assert "complete(case)" in _example(S.op_cases)
    _run_op_cases_example(lambda x, w, b: x @ w.T + b)   # y = Wx + b, rows


def test_the_op_cases_example_fails_a_layer_that_forgets_the_bias() -> None:
    with pytest.raises(AssertionError):
        _run_op_cases_example(lambda x, w, b: x @ w.T)
