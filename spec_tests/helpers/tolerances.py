"""The tolerance policy applied to one op's geometry, for spec tests that compare two computations.

How long an op's sums are (its ``terms``, the gradient's, the recurrence ``depth``) is written once,
in the contract: each op of conformance.contract.OPS has the accumulation rule the conformance
harness sizes its tolerances with. Spec tests take it from there instead of re-deriving it, and
hand it to reference.tolerance.tolerance, the one policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from conformance.contract import op_spec
from reference.tolerance import Tolerance, tolerance

__all__ = ["allowance", "op_tolerance", "torch_tolerances"]


def op_tolerance(op: str, inputs: Mapping[str, Any], attrs: Mapping[str, Any] | None = None, *,
                 gradient: bool = False, dtype: DTypeLike = np.float64,
                 results: int = 1) -> Tolerance:
    """The policy's tolerance for contract op ``op`` on ``inputs`` (arrays by contract name; only
    their shapes matter) and ``attrs``: terms and depth from the op's accumulation rule.

    ``results`` > 1 is for a comparison whose one side adds up that many results of the op
    (conv(x, w) + α·conv(x', w) against conv(x + αx', w)): their sums' rounding adds up, so the
    terms do.
    """
    arrays = {k: np.asarray(v) for k, v in inputs.items()}
    acc = op_spec(op).accumulation(arrays, dict(attrs or {}))
    terms = acc.gradient_terms if gradient else acc.terms
    return tolerance(dtype, terms=results * terms, depth=acc.depth, gradient=gradient)


def torch_tolerances(op: str, inputs: Mapping[str, Any],
                     attrs: Mapping[str, Any] | None = None) -> dict[str, Tolerance]:
    """``forward_tol`` and ``gradient_tol`` of op_tolerance, as keywords of
    spec_tests.helpers.oracles.assert_matches_torch."""
    return {"forward_tol": op_tolerance(op, inputs, attrs),
            "gradient_tol": op_tolerance(op, inputs, attrs, gradient=True)}


def allowance(tol: Tolerance, magnitude: float) -> float:
    """The largest error ``tol`` allows on a result computed from summands at most ``magnitude``
    in size: (atol + rtol)·max(1, magnitude), the policy's ``atol·scale + rtol·|e|`` with scale
    and |e| both bounded by max(1, magnitude).

    For comparisons the element-wise check cannot express: an inequality (avg ≤ max + allowance)
    or a result that cancels to about 0, whose error is set by the size of what was summed.
    """
    return (tol.atol + tol.rtol) * max(1.0, float(magnitude))
