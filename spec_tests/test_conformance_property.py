"""Tests of property mode (conformance.property, conformance.strategies.ops): a seeded random
search draws valid cases of every op through the strategies' builders, torch passes them all, a
failure is shrunk by Hypothesis to a minimal case with its seed, diagnosis and a reproducer that
calls the backend directly; runs are reproducible."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import runpy
import subprocess
import sys
import types
from dataclasses import replace
from pathlib import Path
from random import Random
from typing import Any

import numpy as np
import pytest
from hypothesis import find, given, settings

from conformance import reproducer as R
from conformance.adapters import numpy_backend as NUMPY
from conformance.backends import load_backend
from conformance.cases import Case
from conformance.cli import main
from conformance.contract import OPS
from conformance.property import property_check
from conformance.report import Result
from conformance.schema import validate
from conformance.strategies import conv_cases, op_cases
from conformance.strategies.basic import (
    packed_arrays,
    packed_indices,
    packed_permutations,
    values_of,
)
from conformance.strategies.conv import conv_case, conv_geometry
from conformance.strategies.draws import RandomDraws
from conformance.strategies.ops import _BUILT_ON_DRAWS, op_case
from reference.tolerance import Tolerance, tolerance
from spec_tests import conformance_faults as faults

pytestmark = pytest.mark.infrastructure
ROOT = Path(__file__).resolve().parents[1]

TORCH = load_backend("torch")
BUGGY = load_backend("conformance.examples.student_buggy")


def _script_output(path: Path | None = None, text: str | None = None, *,
                   status: int = 1) -> str:
    """What a reproducer prints; it must end with SystemExit(``status``): 1 while it fails."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exited:
        if path is not None:
            runpy.run_path(str(path), run_name="__main__")
        else:
            exec(compile(text or "", "<reproducer>", "exec"), {"__name__": "__main__"})
    assert exited.value.code == status, out.getvalue()
    return out.getvalue()


@pytest.mark.parametrize("op", list(OPS))
def test_torch_passes_drawn_cases_of_every_op(op: str) -> None:
    results = property_check(TORCH, op, examples=6)
    assert [r.status for r in results] == ["pass", "pass"], [r.line() for r in results]
    assert all(r.examples == 6 and r.case.source == "property" for r in results)
    assert results[0].reason.startswith("6 examples (seed 0), largest error: ")


def test_torch_passes_drawn_cases_in_float32() -> None:
    for op in ("conv2d", "lstm"):
        assert {r.status for r in property_check(TORCH, op, "float32", examples=10)} == {"pass"}


@pytest.fixture(scope="module")
def shrunk() -> list[Result]:
    """The student's flipped kernel found by property mode (seed 0): shrunk once, shared."""
    return property_check(BUGGY, "conv2d", examples=30)


def test_a_failure_is_shrunk_and_comes_with_its_seed_diagnosis_and_reproducer(
        shrunk: list[Result]) -> None:
    forward, gradient = shrunk
    assert gradient.status == "pass" and gradient.examples == 30      # its backward is right
    assert forward.status == "fail" and forward.id == "conv2d[forward-property-seed-0]"
    assert forward.case.geometry() == ("x[1, 1, 1, 2], w[1, 1, 1, 2], b[1]; stride=(1, 1), "
                                       "padding=(0, 0)")               # the smallest that shows
    assert forward.reason.endswith(f"[seed 0: failed at example {forward.examples}, "
                                   f"shrunk to {forward.case.geometry()}]")
    assert forward.diagnosis is not None and forward.diagnosis.startswith(
        "matches a true convolution (kernel flipped 180°)")
    assert forward.reproducer is not None
    assert "import conformance.examples.student_buggy as backend" in forward.reproducer
    assert _script_output(text=forward.reproducer) == ("y: max abs error 1 at index (0, 0, 0, 0)\n"
                                                       "FAIL: y\n")


def test_runs_are_reproducible_and_the_seed_draws_other_cases(shrunk: list[Result]) -> None:
    assert [r.reason for r in property_check(BUGGY, "conv2d", examples=30)] == [
        r.reason for r in shrunk]
    runs = [property_check(TORCH, "conv2d", examples=10, seed=seed) for seed in (0, 1)]
    seeds = [[r.reason for r in results] for results in runs]
    assert seeds[0] != seeds[1] and "seed 1" in seeds[1][0]
    # the JSON report's "seed" of a property check is its seed, failing or not
    assert [r.to_dict()["seed"] for r in (*runs[1], *shrunk)] == [1, 1, 0, 0]


def test_a_gradient_failure_gets_its_own_minimal_case_and_a_vjp_reproducer() -> None:
    from spec_tests import conformance_mistakes as mistakes

    bound = load_backend(mistakes.relu_gradient_doubled_by_vjp)
    forward, gradient = property_check(bound, "relu", examples=30)
    assert forward.status == "pass" and gradient.status == "fail"
    # the smallest failing case: one element spells 0 (packed_arrays' ramp), where relu's slope
    # is 0 and doubling it shows nothing; two spell 0 and 5
    assert gradient.case.geometry() == "x[2]"
    assert gradient.case.inputs["x"].tolist() == [0.0, 5.0]
    assert gradient.diagnosis == ("matches the true gradient scaled by a constant (dx × 2): the "
                                  "backward has a factor too many or too few [breaks "
                                  "graph.backprop, act.relu]")
    assert gradient.reproducer is not None
    assert "got = backend.vjp('relu', (x,), {}, (dy,))" in gradient.reproducer
    assert ("from spec_tests.conformance_mistakes import relu_gradient_doubled_by_vjp as "
            "backend") in gradient.reproducer
    assert _script_output(text=gradient.reproducer).startswith("dx: max abs error ")


def test_the_case_as_first_drawn_leads_the_diagnosis_where_it_names_a_mistake() -> None:
    """A minimal case can be too small to tell mistakes apart (with H = 1 a stride along H does
    nothing): the larger case as first drawn leads; its float32 rounding never does, since the
    minimal case fails beyond float32's tolerance."""
    from conformance.cases import Case
    from conformance.property import _diagnosis

    first = Case(op="relu", source="drawn", name="d", inputs={"x": np.zeros((2, 3))})
    swapped, ignored = "matches the stride (2, 1) applied ...", "matches stride 1 ..."
    f32 = "matches float32 arithmetic (errors of float32 rounding): ..."
    unknown = "unknown: none of the well-known mistakes matches"
    seen = "(seen on the case as first drawn, x[2, 3])"
    assert _diagnosis(ignored, swapped, first) == (
        f"{swapped} {seen}; the minimal case alone also matches: {ignored}")
    assert _diagnosis(unknown, swapped, first) == f"{swapped} {seen}"
    assert _diagnosis(None, swapped, first) == f"{swapped} {seen}"
    for minimal in (unknown, ignored, None):
        assert _diagnosis(minimal, f32, first) == minimal
        assert _diagnosis(minimal, unknown, first) == minimal
        assert _diagnosis(minimal, None, first) == minimal
    assert _diagnosis(ignored, ignored, first) == ignored


def test_a_hang_fails_at_once_without_shrinking() -> None:
    forward, _ = property_check(load_backend(faults.sleeps), "relu", examples=30, timeout=0.2)
    assert forward.status == "timeout" and forward.reproducer is None
    assert forward.reason == ("relu timed out after 0.2 s (the limit per call; --timeout "
                              "changes it)")


def test_missing_ops_and_gradients_are_skips_unless_required() -> None:
    only_forward = load_backend(types.SimpleNamespace(relu=lambda x: np.maximum(x, 0.0)))
    forward, gradient = property_check(only_forward, "relu", examples=5)
    assert (forward.status, gradient.status) == ("pass", "skip")
    assert gradient.reason == "not implemented: SimpleNamespace has no gradient of relu"
    missing = property_check(only_forward, "tanh", examples=5, required=True)
    assert [r.status for r in missing] == ["fail", "fail"]
    assert missing[0].reason == "not implemented: SimpleNamespace has no tanh (required)"

    def vjp(op: str, *args: Any) -> Any:
        raise NotImplementedError(f"no {op}")

    no_vjp = load_backend(types.SimpleNamespace(relu=lambda x: np.maximum(x, 0.0), vjp=vjp))
    assert property_check(no_vjp, "relu", examples=5)[1].reason == (
        "not implemented: no relu (every one of the 5 drawn cases)")
    assert property_check(no_vjp, "tanh", examples=5)[1].reason == (
        "not checked: SimpleNamespace has no tanh to draw cases for")


def test_a_backend_whose_results_vary_is_called_out() -> None:
    calls = []

    def relu(x: np.ndarray) -> np.ndarray:
        calls.append(1)
        return np.maximum(x, 0.0) + (1.0 if len(calls) == 1 else 0.0)

    forward, _ = property_check(load_backend(types.SimpleNamespace(relu=relu)), "relu",
                                examples=5)
    assert forward.status == "fail"
    assert forward.reason.startswith("failed once, then passed on the same case: the backend's "
                                     "results vary from call to call [seed 0")


def test_reproducers_are_written_with_their_arrays_in_an_npz_when_large(
        shrunk: list[Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    forward = shrunk[0]
    args = dict(target=BUGGY.target, style=None, dtype="float64",
                tol=forward.tolerance or tolerance(np.float64))
    path, text = R.write(tmp_path, forward.case, "forward", **args)
    assert text == R.script(forward.case, "forward", **args) and "np.array(" in text
    monkeypatch.setattr(R, "INLINE_LIMIT", 0)
    path, text = R.write(tmp_path, forward.case, "forward", **args)
    assert path == tmp_path / "conv2d_forward.py" and (tmp_path / "conv2d_forward.npz").exists()
    assert "np.load(Path(__file__).with_name(\"conv2d_forward.npz\"))" in text
    assert "np.array(" not in text
    assert _script_output(path) == "y: max abs error 1 at index (0, 0, 0, 0)\nFAIL: y\n"


# What a reproducer allows on y = relu(3) = 3 with REPRODUCER_TOL, by hand:
# atol·max(1, max|y|) + rtol·|y| = 1e-5·3 + 1e-6·3 = 3.3e-5; two relu backends off by twice and
# by half that, loadable by reproducers as spec_tests.test_conformance_property:<name>
REPRODUCER_TOL = Tolerance(rtol=1e-6, atol=1e-5)
ALLOWED_AT_3 = 3.3e-5
relu_off_by_twice_the_allowed = types.SimpleNamespace(
    relu=lambda x: np.maximum(x, 0.0) + 2 * ALLOWED_AT_3)
relu_off_by_half_the_allowed = types.SimpleNamespace(
    relu=lambda x: np.maximum(x, 0.0) + 0.5 * ALLOWED_AT_3)


@pytest.mark.parametrize(("backend", "status", "printed"), [
    ("relu_off_by_twice_the_allowed", 1, "y: max abs error 6.6e-05 at index (0,)\nFAIL: y\n"),
    ("relu_off_by_half_the_allowed", 0, "y: max abs error 1.65e-05 at index (0,)\nPASS\n"),
], ids=["twice", "half"])
def test_a_reproducer_holds_the_backend_to_the_tolerance_it_states(backend: str, status: int,
                                                                   printed: str) -> None:
    """The script allows exactly its tolerance: twice the allowed error fails (exit 1), half of
    it passes (exit 0)."""
    case = Case(op="relu", source="property", name="d", inputs={"x": np.array([3.0])},
                expected={"y": np.array([3.0])})
    text = R.script(case, "forward", target=f"spec_tests.test_conformance_property:{backend}",
                    style=None, dtype="float64", tol=REPRODUCER_TOL)
    assert "rtol, atol = 1e-06, 1e-05" in text
    assert _script_output(text=text, status=status) == printed


def _drawn_inputs(seed: int) -> list[tuple[tuple[int, ...], str]]:
    """The x (shape, hash of the values) of every case property mode gives a recording relu,
    drawn with ``seed``."""
    seen: list[tuple[tuple[int, ...], str]] = []

    def relu(x: np.ndarray) -> np.ndarray:
        digest = hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()[:12]
        seen.append((x.shape, digest))
        return np.maximum(x, 0.0)

    property_check(load_backend(types.SimpleNamespace(relu=relu)), "relu", examples=5,
                   seed=seed)
    return seen


def test_the_seed_decides_which_cases_are_drawn() -> None:
    """Not only the reported seed number: the same seed draws the same inputs, another seed
    other inputs."""
    first = _drawn_inputs(0)
    assert len(first) >= 5
    assert _drawn_inputs(0) == first
    assert _drawn_inputs(1) != first


def test_reproducers_import_the_backend_as_a_user_would() -> None:
    assert R.backend_import("torch") == ("from conformance.adapters.torch_backend import "
                                         "TorchBackend\n\nbackend = TorchBackend()")
    assert R.backend_import("numpy") == "import conformance.adapters.numpy_backend as backend"
    assert R.backend_import(None).startswith("backend = None  # nnspec cannot tell")
    assert R.backend_import("no_such.module").startswith("backend = None  # could not import")


def test_the_strategies_cover_the_contract_and_refuse_unknown_ops() -> None:
    assert set(_BUILT_ON_DRAWS) == set(OPS)
    with pytest.raises(KeyError, match="no op 'conv3d' in the contract"):
        op_cases("conv3d")


def test_packed_arrays_spell_float32_values_and_shrink_to_the_simple_ramp() -> None:
    """packed_arrays (property mode's values): two bytes an element, XORed with the position,
    read backwards as a fraction of the bound; zero bytes are the ramp 0, b/2, b/4, 3b/4, ..."""
    values = values_of(bytes(16), (2, 4), 2.0)
    assert values.tolist() == [[0.0, 1.0, 0.5, 1.5], [0.25, 1.25, 0.75, 1.75]]
    # element 0: sign bit and the number 1 → −bound/2; element 1: 0x7FFF XOR 1 = 0x7FFE, whose
    # bits read backwards are 0.011…1 in binary = 1/2 − 2⁻¹⁵
    assert values_of(bytes([0x80, 1, 0x7F, 0xFF]), (2,), 1.0).tolist() == [-0.5, 0.5 - 2**-15]
    strategy = packed_arrays((3, 5), bound=3.0)
    assert strategy is packed_arrays((3, 5), bound=3.0)       # built once per shape

    @settings(max_examples=50, database=None)
    @given(strategy)
    def in_range_and_float32(a: np.ndarray) -> None:
        assert a.shape == (3, 5) and a.dtype == np.float64
        assert np.all((-3.0 <= a) & (a < 3.0))
        assert np.array_equal(a.astype(np.float32).astype(np.float64), a)

    in_range_and_float32()
    varied = find(strategy, lambda a: np.unique(a).size == 15 and a.min() < -1 < 2 < a.max(),
                  settings=settings(database=None))
    assert varied.shape == (3, 5)
    negative = find(packed_arrays((2, 3)), lambda a: bool((a < 0).any()),
                    settings=settings(database=None))      # shrunk: the ramp, one sign flipped
    assert np.abs(negative).ravel().tolist() == [0.0, 1.0, 0.5, 1.5, 0.25, 1.25]
    assert int((negative < 0).sum()) == 1


def test_the_cli_runs_property_mode(tmp_path: Path) -> None:
    out = io.StringIO()
    js, xml = tmp_path / "r.json", tmp_path / "r.xml"
    code = main(["run", "--backend", "conformance.examples.student_buggy", "--ops", "conv2d",
                 "--property", "--examples", "20", "--seed", "3", "--reproducers",
                 str(tmp_path), "--max-failures", "1", "--json", str(js), "--junit", str(xml)],
                out=out)
    text = out.getvalue()
    doc = json.loads(js.read_text(encoding="utf-8"))
    assert validate(doc) == [] and doc["seeds"]["property"] == 3
    drawn = [r for r in doc["results"] if r["source"] == "property"]
    assert [r["status"] for r in drawn] == ["fail", "pass"] and drawn[1]["examples"] == 20
    assert drawn[0]["reproducer"].startswith('"""nnspec reproducer: conv2d forward')
    assert "diagnosis: matches a true convolution" in xml.read_text(encoding="utf-8")
    assert code == 1
    assert "property mode: 20 examples per op, seed 3" in text.splitlines()[0]
    assert "failures (the first 1 of 15 golden and slide failures; -v or --json lists them " \
           "all):" in text
    assert "seed 3: failed at example" in text and "     reproducer:" not in text
    assert f"; reproducer: {tmp_path / 'conv2d_forward.py'}]" in text
    assert "\ndiagnoses:\n  16× matches a true convolution" in text
    assert (tmp_path / "conv2d_forward.py").exists()
    code = main(["run", "--ops", "relu", "--property", "--examples", "0"], out=io.StringIO())
    assert code == 2


def test_errors_of_nnspec_itself_are_not_taken_for_the_backends(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import conformance.property as P

    def broken(case: Any, reference: Any = None) -> Any:
        raise RuntimeError("a bug in nnspec")

    monkeypatch.setattr(P, "complete", broken)
    with pytest.raises(RuntimeError, match="a bug in nnspec"):
        property_check(TORCH, "relu", examples=3)


def test_reproducers_of_backward_functions_call_them_with_the_upstream_first(
        shrunk: list[Result]) -> None:
    case = shrunk[0].case
    from conformance.cases import complete

    case = complete(replace(case, upstream={"y": np.ones((1, 1, 1, 1))}, expected=None))
    text = R.script(case, "gradient", target="conformance.examples.student", style="backward",
                    dtype="float32", tol=tolerance(np.float32))
    assert "got = backend.conv2d_backward(dy, x, w, b, stride, padding)" in text
    assert "dy = np.array([[[[1.0]]]], dtype=np.float32)" in text
    assert _script_output(text=text, status=0) == ("dx: max abs error 0 at index (0, 0, 0, 0)\n"
                                                   "dw: max abs error 0 at index (0, 0, 0, 0)\n"
                                                   "db: max abs error 0 at index (0,)\nPASS\n")


# draws conv2d cases with seed 7 through a backend that hashes every input it is given; the
# modules named on the command line are imported first
_DRAWS = """
import hashlib, importlib, sys, types
import numpy as np
for name in sys.argv[1:]:
    importlib.import_module(name)
from conformance.adapters import numpy_backend as NB
from conformance.backends import load_backend
from conformance.property import property_check
digest, calls = hashlib.sha256(), []
def conv2d(x, w, b, stride, padding):
    for a in (x, w, b):
        digest.update(np.ascontiguousarray(a).tobytes())
    calls.append(repr((stride, padding)))
    y = NB.conv2d(x, w, b, stride, padding)
    return y + 1.0 if x.size > 40 else y          # wrong on larger inputs: a search, a shrink
backend = load_backend(types.SimpleNamespace(name="recorder", conv2d=conv2d))
forward, _ = property_check(backend, "conv2d", examples=20, seed=7, diagnose=False)
print(forward.status, forward.examples, len(calls), digest.hexdigest(),
      hashlib.sha256("".join(calls).encode()).hexdigest(), forward.case.geometry().replace(" ", ""))
"""


def test_a_seed_draws_the_same_cases_in_fresh_processes_whatever_they_imported() -> None:
    """Property mode promises the same cases, and the same shrunk failure, for the same seed in
    any process. The search is a seeded random.Random; the shrink is Hypothesis's, and
    Hypothesis ≥ 6.131 also draws constants found in the loaded local modules, which
    property._stable_draws turns off through Hypothesis internals; should a Hypothesis release
    move them, the fallback is silent, and this test is what fails: two fresh processes, one
    importing many more of the project's modules (and their constants) than the other, must
    draw and shrink identically."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    extra = ["reference.lstm", "reference.gru", "reference.rnn", "reference.claims",
             "conformance.golden", "conformance.diagnosis"]
    procs = [subprocess.Popen([sys.executable, "-c", _DRAWS, *imports], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for imports in ([], extra)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outs]
    plain, loaded = (out.split() for out, _ in outs)
    assert plain[0] == "fail" and int(plain[2]) > int(plain[1]), plain   # searched, shrunk
    assert plain == loaded, ("the same seed drew other cases once more modules were imported: "
                             "Hypothesis's local-constants internals changed, update "
                             "conformance.property._stable_draws")


@pytest.mark.parametrize("op", list(OPS))
def test_random_draws_are_choices_hypothesis_replays_into_the_same_case(op: str) -> None:
    """Property mode searches with RandomDraws and hands a failure's choices to
    Hypothesis: the strategy op_cases(op), fed those choices, must consume exactly them and build
    the very same case, or the shrink would start from another case."""
    generator = Random(11)
    for i in range(60):
        draws = RandomDraws(generator, simplest=i == 0)
        case = op_case(op, draws)
        replayed = _replayed(op_cases(op), draws.choices)
        assert replayed.attrs == case.attrs
        for name in case.inputs:
            assert np.array_equal(replayed.inputs[name], case.inputs[name]), name
        for name in case.upstream:
            assert np.array_equal(replayed.upstream[name], case.upstream[name]), name


def test_random_draws_of_a_drawn_bias_replay_too() -> None:
    """conv_cases(bias=None) draws whether there is a bias: a boolean choice."""
    generator = Random(3)
    biases = set()
    for _ in range(20):
        draws = RandomDraws(generator)
        case = conv_case(draws, conv_geometry(draws), bias=None)
        replayed = _replayed(conv_cases(values=packed_arrays), draws.choices)
        biases.add(case.b is None)
        assert (replayed.b is None) == (case.b is None)
        assert np.array_equal(replayed.x, case.x) and np.array_equal(replayed.dy, case.dy)
    assert biases == {True, False}


def _replayed(strategy: Any, choices: list[Any]) -> Any:
    from hypothesis.control import BuildContext
    from hypothesis.internal.conjecture.data import ConjectureData

    data = ConjectureData.for_choices(tuple(choices))
    with BuildContext(data, wrapped_test=None):
        value = data.draw(strategy)
    assert tuple(data.choices) == tuple(choices)
    return value


def test_the_random_search_starts_with_the_simplest_case() -> None:
    """As Hypothesis's first example: the smallest sizes and the ramp of packed_arrays."""
    seen: list[tuple[np.ndarray, ...]] = []

    def conv2d(x, w, b, stride, padding):  # type: ignore[no-untyped-def]
        seen.append((x, w, b, stride, padding))
        return NUMPY.conv2d(x, w, b, stride, padding)

    property_check(load_backend(types.SimpleNamespace(conv2d=conv2d)), "conv2d", examples=3)
    x, w, b, stride, padding = seen[0]
    assert x.shape == w.shape == (1, 1, 1, 1) and b.shape == (1,)
    assert (x.item(), w.item(), b.item()) == (0.0, 0.0, 0.0)
    assert stride == (1, 1) and padding == (0, 0)
    assert len({s[0].shape for s in seen}) > 1            # then random sizes


def test_a_failure_the_random_search_finds_is_shrunk_by_hypothesis_from_that_case() -> None:
    """A backend wrong only with three kernels or more: the random search finds a case, and
    Hypothesis shrinks it to the smallest one that still fails (K = 3, every other size 1)."""
    def conv2d(x, w, b, stride, padding):  # type: ignore[no-untyped-def]
        y = NUMPY.conv2d(x, w, b, stride, padding)
        return y + 1.0 if w.shape[0] >= 3 else y

    forward, _ = property_check(load_backend(types.SimpleNamespace(conv2d=conv2d)), "conv2d",
                                examples=50, diagnose=False)
    assert forward.status == "fail"
    inputs = forward.case.inputs
    assert inputs["x"].shape == (1, 1, 1, 1) and inputs["w"].shape == (3, 1, 1, 1)
    assert forward.case.attrs == {"stride": (1, 1), "padding": (0, 0)}
    assert f"seed 0: failed at example {forward.examples}, shrunk to" in forward.reason


def test_a_random_search_failure_that_does_not_fail_again_is_called_out() -> None:
    calls = []

    def lstm(x, h0, c0, w_ih, w_hh, b_ih, b_hh):  # type: ignore[no-untyped-def]
        calls.append(1)
        out, h_n, c_n = NUMPY.lstm(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
        return (out + 1.0 if len(calls) == 2 else out), h_n, c_n

    forward, _ = property_check(load_backend(types.SimpleNamespace(lstm=lstm)), "lstm",
                                examples=5)
    assert forward.status == "fail" and forward.examples == 2
    assert forward.reason.startswith("failed once, then passed on the same case: the backend's "
                                     "results vary from call to call [seed 0")


@pytest.mark.parametrize("size", [0, -3, 2.5, True])
def test_packed_indices_refuse_a_size_no_index_fits(size: Any) -> None:
    with pytest.raises(ValueError, match=r"packed_indices: size must be a positive int .*got "
                                         + re.escape(repr(size))):
        packed_indices((2, 3), size)


def test_packed_indices_and_permutations_stay_in_range() -> None:
    @settings(max_examples=30, database=None)
    @given(packed_indices((4, 5), 3), packed_permutations(7))
    def in_range(ids: np.ndarray, order: np.ndarray) -> None:
        assert ids.shape == (4, 5) and ids.dtype == np.int64
        assert ((0 <= ids) & (ids < 3)).all()
        assert sorted(order.tolist()) == list(range(7))

    in_range()
