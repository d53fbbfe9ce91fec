"""Tests of conformance.contract: the ops, their signatures and their accumulation rules."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.contract import OPS, contract_markdown, op_spec
from conformance.golden import PLANS
from reference.claims import REGISTRY
from reference.tolerance import tolerance

pytestmark = pytest.mark.infrastructure

ISSUE_OPS = ["step", "sigmoid", "tanh", "relu", "linear", "softmax", "cross_entropy", "max_margin",
             "conv2d", "conv1d", "max_pool2d", "avg_pool2d", "lp_pool2d", "rnn", "lstm", "gru",
             "embedding"]


def test_the_contract_has_every_op_of_the_issue_in_order() -> None:
    assert list(OPS) == ISSUE_OPS


def test_every_op_names_registered_claims_and_has_golden_cases_planned() -> None:
    for op in OPS.values():
        unknown = [c for c in op.claims if c not in REGISTRY]
        assert not unknown, f"{op.name} names unknown claims {unknown}"
        assert op.name in PLANS, f"{op.name} has no golden planner"
        assert op.formula and op.gradient and op.reference


def test_signatures_read_as_the_issue_writes_them() -> None:
    conv = op_spec("conv2d")
    assert conv.signature() == "conv2d(x, w, b, stride, padding) -> y"
    assert conv.backward_signature() == (
        "conv2d_backward(dy, x, w, b, stride, padding) -> (dx, dw, db)")
    assert op_spec("linear").shapes() == "x [N, D], w [M, D], b [M] → y [N, M]"
    lstm = op_spec("lstm")
    assert lstm.signature() == "lstm(x, h0, c0, w_ih, w_hh, b_ih, b_hh) -> (out, h_n, c_n)"
    assert lstm.backward_signature().startswith("lstm_backward(dout, dh_n, dc_n, x, h0, c0,")
    assert "[4H, D]" in lstm.shapes() and "[3H, H]" in op_spec("gru").shapes()
    assert "[H, D]" in op_spec("rnn").shapes()


def test_index_inputs_get_no_gradient() -> None:
    assert [a.name for a in op_spec("cross_entropy").differentiable] == ["logits"]
    assert [a.name for a in op_spec("embedding").differentiable] == ["E"]
    assert op_spec("embedding").backward_signature() == "embedding_backward(dy, ids, E) -> dE"


def test_unknown_op_lists_the_contract() -> None:
    with pytest.raises(KeyError, match="no op 'conv3d' in the contract; ops: step, sigmoid"):
        op_spec("conv3d")


def test_markdown_has_one_row_per_op() -> None:
    text = contract_markdown()
    assert text.count("\n") == len(OPS) + 2
    assert "| conv2d | `conv2d(x, w, b, stride, padding) -> y` |" in text


def test_accumulation_counts_the_largest_sums() -> None:
    x, w = np.zeros((2, 3, 8, 9)), np.zeros((5, 3, 3, 5))
    conv = op_spec("conv2d").accumulation({"x": x, "w": w, "b": np.zeros(5)},
                                          {"stride": (1, 2), "padding": (2, 1)})
    # the window sum C·FH·FW = 45 products plus the bias; dw sums over N·OH·OW = 2·10·4
    assert (conv.terms, conv.gradient_terms, conv.depth) == (46, 80, 1)
    # an int stride or padding holds for both axes: OH = (8 + 2 − 3)/2 + 1 = 4, OW = 4
    both = op_spec("conv2d").accumulation({"x": x, "w": w}, {"stride": 2, "padding": 1})
    assert both.gradient_terms == max(5 * 3 * 5, 2 * 4 * 4)
    conv1d = op_spec("conv1d").accumulation({"x": np.zeros((2, 3, 10)), "w": np.zeros((4, 3, 3))},
                                            {"stride": 3, "padding": np.int64(1)})
    # C·F = 9 products plus the bias; dx sums over K·F = 12, dw over N·OL = 2·4
    assert (conv1d.terms, conv1d.gradient_terms) == (10, 12)
    lstm = op_spec("lstm").accumulation({"x": np.zeros((12, 3, 4)), "h0": np.zeros((3, 5))}, {})
    assert (lstm.terms, lstm.gradient_terms, lstm.depth) == (11, 20, 12)
    pool = op_spec("avg_pool2d").accumulation({}, {"kernel_size": (3, 3), "stride": (1, 1)})
    assert (pool.terms, pool.gradient_terms) == (9, 9)
    overlap = op_spec("max_pool2d").accumulation({}, {"kernel_size": (3, 2), "stride": (1, 1)})
    assert (overlap.terms, overlap.gradient_terms) == (1, 6)
    emb = op_spec("embedding").accumulation({"ids": np.array([[1, 1], [1, 0]])}, {})
    assert emb.gradient_terms == 3
    assert op_spec("embedding").accumulation({"ids": np.zeros(0, int)}, {}).gradient_terms == 1
    ce = op_spec("cross_entropy").accumulation({"logits": np.zeros((4, 5))}, {})
    assert (ce.terms, ce.gradient_terms) == (20, 5)
    assert op_spec("softmax").accumulation({"x": np.zeros(())}, {}).terms == 1
    linear = op_spec("linear").accumulation({"x": np.zeros((6, 16)), "w": np.zeros((8, 16))}, {})
    # y sums D = 16 products and the bias; dx sums over M = 8 rows of w, dw and db over N = 6
    assert (linear.terms, linear.gradient_terms) == (17, 8)


def test_tolerances_grow_with_accumulation_and_are_looser_in_float32() -> None:
    short = tolerance(np.float64, terms=1)
    long = tolerance(np.float64, terms=46)
    assert short.rtol < long.rtol < tolerance(np.float32, terms=46).rtol
