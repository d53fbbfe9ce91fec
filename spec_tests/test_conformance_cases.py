"""Tests of conformance.cases: the golden cases as stored, and the case abstraction."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from conformance import cases as C
from conformance.backends import load_backend
from conformance.cases import Case, complete, golden_cases, golden_manifest
from conformance.contract import OPS
from conformance.runner import run_case
from reference import SPEC_VERSION
from reference.activations import relu

pytestmark = pytest.mark.infrastructure


@pytest.fixture(scope="module")
def golden() -> list[Case]:
    return golden_cases()


def test_the_manifest_names_its_format_spec_version_and_seed() -> None:
    manifest = golden_manifest()
    assert manifest["format"] == C.GOLDEN_FORMAT
    assert manifest["spec_version"] == SPEC_VERSION
    assert isinstance(manifest["seed"], int)
    assert manifest["checked_against"].startswith("torch ")


def test_every_op_the_reference_implements_has_golden_cases(golden: list[Case]) -> None:
    reference = load_backend("numpy")
    have = {c.op for c in golden}
    implemented = {op for op in OPS if reference.forward_fn(op) is not None}
    assert have == implemented
    assert [c.op for c in golden] == sorted((c.op for c in golden), key=list(OPS).index)


def test_stored_cases_still_match_the_reference(golden: list[Case]) -> None:
    """Every stored golden case, forward and gradient, against the reference as it is now."""
    reference = load_backend("numpy")
    bad = [r.line() for case in golden for r in run_case(reference, case) if r.status != "pass"]
    assert not bad, "\n".join(bad)


def test_float_inputs_are_float32_numbers_and_ids_are_int64(golden: list[Case]) -> None:
    """So that a float32 run sees exactly the inputs the expected values come from."""
    for case in golden:
        for name, value in {**case.inputs, **case.upstream}.items():
            if np.issubdtype(value.dtype, np.integer):
                assert value.dtype == np.int64, f"{case.id} {name}"
            else:
                assert np.array_equal(value.astype(np.float32).astype(np.float64), value), (
                    f"{case.id}: {name} is not a float32 number")


def test_cases_have_upstream_for_every_output_and_expected_for_every_gradient(
        golden: list[Case]) -> None:
    for case in golden:
        spec = OPS[case.op]
        assert set(case.upstream) == {o.name for o in spec.outputs}
        assert set(case.expected_grads or {}) == {a.name for a in spec.differentiable}
        assert case.seed is not None and case.about


def test_edge_shapes_are_covered(golden: list[Case]) -> None:
    """N = 1, T = 1, C = 1, 1×1 kernels and kernel = input size appear among the cases."""
    conv = [c for c in golden if c.op == "conv2d"]
    assert any(c.inputs["x"].shape[0] == 1 for c in conv)                       # N = 1
    assert any(c.inputs["x"].shape[1] == 1 for c in conv)                       # C = 1
    assert any(c.inputs["w"].shape[2:] == (1, 1) for c in conv)                 # 1×1 kernel
    assert any(c.inputs["w"].shape[2:] == c.inputs["x"].shape[2:] for c in conv)
    assert any(c.attrs["stride"][0] != c.attrs["stride"][1] for c in conv)      # per-axis
    assert any(c.inputs["w"].shape[2] != c.inputs["w"].shape[3] for c in conv)  # asymmetric
    for w in (c.inputs["w"] for c in conv if c.inputs["w"].shape[2:] != (1, 1)):
        assert not np.allclose(w, w[..., ::-1, ::-1]), "a symmetric kernel hides a flip"
    rnn = [c for c in golden if c.op == "rnn"]
    assert any(c.inputs["x"].shape[0] == 1 for c in rnn)                        # T = 1


def test_complete_fills_in_a_drawn_case_from_the_reference() -> None:
    x = np.array([-1.0, 0.0, 2.0])
    bare = Case(op="relu", source="property", name="0001", inputs={"x": x},
                upstream={"y": np.array([1.0, 2.0, 3.0])})
    done = complete(bare)
    assert done.expected is not None and done.expected_grads is not None
    np.testing.assert_array_equal(done.expected["y"], relu(x))
    np.testing.assert_array_equal(done.expected_grads["x"], [0.0, 0.0, 3.0])
    assert complete(done) is done
    forward_only = complete(replace(bare, upstream={}))
    assert forward_only.expected_grads is None


def test_case_ids_and_geometry() -> None:
    case = Case(op="conv2d", source="golden", name="07",
                inputs={"x": np.zeros((1, 2, 5, 5)), "w": np.zeros((3, 2, 3, 3)),
                        "b": np.zeros(3)}, attrs={"stride": (np.int64(2), 1), "padding": 0})
    assert case.id == "conv2d[golden-07]"
    assert case.geometry() == "x[1, 2, 5, 5], w[3, 2, 3, 3], b[3]; stride=(2, 1), padding=0"
    assert Case(op="relu", source="slide", name="s", inputs={"x": np.zeros(2)}).geometry() == (
        "x[2]")


def test_a_manifest_of_another_format_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(C, "load_json", lambda path: {"format": 99, "cases": []})
    with pytest.raises(ValueError, match="golden manifest has format 99, this nnspec reads"):
        golden_manifest()
