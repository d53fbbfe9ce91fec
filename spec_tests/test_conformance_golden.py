"""Tests of conformance.golden: the generator reproduces the stored cases and refuses to write
unless PyTorch agrees."""

from __future__ import annotations

import io
import json
import types
from contextlib import redirect_stdout
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conformance import golden as G
from conformance.backends import Bound, load_backend
from conformance.cases import Case, golden_cases
from conformance.contract import OPS
from reference.tolerance import assert_close, tolerance

pytestmark = pytest.mark.infrastructure


def test_regenerating_gives_exactly_the_stored_cases() -> None:
    """Seeds, inputs, upstream gradients and expected values: nothing has drifted."""
    reference = load_backend("numpy")
    ops = [op for op in OPS if reference.forward_fn(op) is not None]
    fresh = G.build_cases(ops, reference)
    assert G.stored_mismatches(fresh) == []
    assert len(fresh) == len(golden_cases())


def test_the_check_mode_reports_drift(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert G.main([]) == 0
    assert "stored golden cases match the reference" in capsys.readouterr().out
    stored = golden_cases(["relu"])
    drifted = [replace(stored[0], inputs={"x": stored[0].inputs["x"] + 1}), *stored[1:]]
    monkeypatch.setattr(G, "golden_cases", lambda: drifted)
    problems = G.stored_mismatches(golden_cases(["relu", "sigmoid"]))
    assert problems[0] == "sigmoid[golden-01]: not stored"
    assert problems[-1] == "relu[golden-01]: inputs x differs"
    monkeypatch.setattr(G, "build_cases", lambda ops, ref: stored[1:])
    assert G.main([]) == 1
    assert "relu[golden-01]: stored but no longer generated" in capsys.readouterr().err


@pytest.mark.parametrize(("part", "key"), [
    ("upstream", "y"), ("expected", "y"), ("expected_grads", "x")])
def test_drift_of_any_stored_array_is_reported(part: str, key: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Upstream gradients, expected outputs and expected gradients are compared too, not only
    the inputs: one stored array altered is one mismatch naming it."""
    fresh = golden_cases(["relu"])
    case = fresh[1]
    change: dict[str, Any] = {part: {**getattr(case, part), key: getattr(case, part)[key] + 1.0}}
    altered = [fresh[0], replace(case, **change), *fresh[2:]]
    monkeypatch.setattr(G, "golden_cases", lambda: altered)
    assert G.stored_mismatches(fresh) == [f"relu[golden-02]: {part} {key} differs"]


_build_cases = G.build_cases


def _only(some: tuple[str, ...], ops: list[str], reference: Bound) -> list[Case]:
    return _build_cases([op for op in ops if op in some], reference)


def test_write_produces_a_manifest_and_npz_that_load_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stored = G.fixtures_dir() / "golden"
    monkeypatch.setattr(G, "fixtures_dir", lambda: tmp_path)
    some = ("relu", "conv2d", "embedding")
    monkeypatch.setattr(G, "build_cases", partial(_only, some))
    out = io.StringIO()
    with redirect_stdout(out):
        assert G.main(["--write"]) == 0
    assert "(torch agrees on all of them)" in out.getvalue()
    manifest = json.loads((tmp_path / "golden" / "manifest.json").read_text(encoding="utf-8"))
    old = json.loads((stored / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["cases"] == [c for c in old["cases"] if c["op"] in some]
    assert {k: v for k, v in manifest.items() if k != "cases"} == {
        k: v for k, v in old.items() if k != "cases"}
    with np.load(tmp_path / "golden" / "conv2d.npz", allow_pickle=False) as fresh, \
            np.load(stored / "conv2d.npz", allow_pickle=False) as old:
        assert sorted(fresh.files) == sorted(old.files)
        for key in fresh.files:
            if "/in/" in key or "/up/" in key:          # drawn from the seeds: exactly the same
                np.testing.assert_array_equal(fresh[key], old[key])
            else:      # computed: the reference may sum in another order after a change
                assert_close(fresh[key], old[key], tolerance(np.float64, terms=100), what=key)


def test_write_is_refused_when_torch_disagrees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    real = load_backend("torch").obj

    def relu(x: np.ndarray) -> np.ndarray:
        return real.relu(x) * 1.001

    wrong = types.SimpleNamespace(**{op: getattr(real, op) for op in OPS}, vjp=real.vjp)
    wrong.relu = relu

    def fake_load(name: str, **kwargs: Any) -> Bound:
        return Bound(wrong, "torch") if name == "torch" else load_backend(name, **kwargs)

    monkeypatch.setattr(G, "load_backend", fake_load)
    monkeypatch.setattr(G, "fixtures_dir", lambda: tmp_path)
    monkeypatch.setattr(G, "build_cases", partial(_only, ("relu", "tanh")))
    assert G.main(["--write"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("PyTorch disagrees with the reference; nothing written:")
    assert "FAIL relu[forward-golden-02]" in err
    assert not (tmp_path / "golden").exists()


def test_every_case_draws_from_its_own_recorded_seed() -> None:
    seeds = [seed for op in OPS for seed, _ in G.plans(op)]
    assert len(seeds) == len(set(seeds))
    assert [c.seed for c in golden_cases(["conv2d"])] == [s for s, _ in G.plans("conv2d")]


def test_ops_the_reference_lacks_are_named(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.adapters import numpy_backend

    partial_reference = types.SimpleNamespace(relu=numpy_backend.relu,
                                              relu_backward=numpy_backend.relu_backward)
    monkeypatch.setattr(G, "load_backend", lambda name: Bound(partial_reference, name))
    assert G.main([]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("the reference has no step, sigmoid, tanh, linear, softmax,")
    assert "conv2d[golden-01]: stored but no longer generated" in err
