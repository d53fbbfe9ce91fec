"""Tests of the ``jax`` adapter (conformance.adapters.jax_backend).

The full runs (every case, float64 and float32) are in .ci/run; JAX compiles a program per case
and shape, so here: one golden case per op in float32, a few ops in float64 (x64 switched on by
the adapter), and the max-pool tie case that a naive JAX max pool gets wrong; where the
compiled programs are kept between runs. Without JAX installed the whole module is skipped at
collection (JAX is an optional extra). The suite runs with the cache off (spec_tests/conftest.py):
no test depends on a warm cache, and none writes to the home folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="JAX is optional: pip install 'nnspec[jax]'")
import jax.numpy as jnp  # noqa: E402

from conformance.adapters import jax_backend  # noqa: E402
from conformance.adapters.jax_backend import CACHE_ENV, JaxBackend, cache_dir  # noqa: E402
from conformance.cases import Case, golden_cases  # noqa: E402
from conformance.contract import OPS  # noqa: E402
from conformance.runner import run  # noqa: E402

pytestmark = pytest.mark.infrastructure


def first_golden_per_op() -> list[Case]:
    firsts: dict[str, Case] = {}
    for case in golden_cases():
        firsts.setdefault(case.op, case)
    return list(firsts.values())


def test_jax_passes_a_case_of_every_op_in_float32() -> None:
    report = run("jax", dtype="float32", cases=first_golden_per_op())
    assert report.ok, "\n".join(r.line() for r in report.failures())
    assert report.skipped == 0 and report.passed == 2 * len(first_golden_per_op())


def test_float64_runs_compute_in_float64() -> None:
    report = run("jax", dtype="float64", ops=["conv2d", "lstm", "cross_entropy"],
                 cases=first_golden_per_op())
    assert report.ok, "\n".join(r.line() for r in report.failures())
    assert jax.config.read("jax_enable_x64")
    y = JaxBackend().tanh(np.array([0.5]))
    assert y.dtype == np.float64 and abs(y[0] - np.tanh(0.5)) < 1e-15   # float32: ~1e-8 off


def test_max_pool_ties_send_the_gradient_to_the_first_maximum() -> None:
    """jnp.max would share a tied window's gradient; the contract gives it to the first."""
    tie = [c for c in golden_cases(["max_pool2d"]) if c.about.startswith("max_pool2d: tied")]
    report = run("jax", ops=["max_pool2d"], cases=tie, dtype="float32")
    assert report.ok and report.passed == 2
    x = jnp.ones((1, 1, 2, 2))
    _, pull = jax.vjp(lambda x: jnp.max(x), x)
    assert float(pull(jnp.ones(()))[0][0, 0, 0, 0]) == 0.25     # why the adapter gathers


def test_every_contract_op_is_there() -> None:
    backend = JaxBackend()
    assert all(callable(getattr(backend, op, None)) for op in OPS)
    with pytest.raises(NotImplementedError, match="jax backend: no op 'conv3d'"):
        backend.vjp("conv3d", (), {}, ())


def test_the_cache_folder_is_the_users_cache_unless_the_environment_says_otherwise() -> None:
    home = Path.home()
    if sys.platform.startswith("linux"):
        assert cache_dir({}) == home / ".cache" / "nnspec" / "jax"
    assert cache_dir({"XDG_CACHE_HOME": "/var/cache/me"}) == Path("/var/cache/me/nnspec/jax")
    assert cache_dir({"XDG_CACHE_HOME": "relative"}) != Path("relative/nnspec/jax")  # ignored
    assert cache_dir({CACHE_ENV: "/tmp/progs", "XDG_CACHE_HOME": "/x"}) == Path("/tmp/progs")
    assert cache_dir({CACHE_ENV: "~/progs"}) == home / "progs"
    for off in ("", "off", " OFF "):
        assert cache_dir({CACHE_ENV: off}) is None


@pytest.mark.parametrize(("platform", "environ", "base"), [
    ("darwin", {}, Path.home() / "Library" / "Caches"),
    ("win32", {"LOCALAPPDATA": "C:/Users/me/AppData/Local"}, Path("C:/Users/me/AppData/Local")),
    ("win32", {}, Path.home() / ".cache"),
])
def test_other_systems_have_their_own_cache_folder(monkeypatch: pytest.MonkeyPatch, platform: str,
                                                   environ: dict[str, str], base: Path) -> None:
    monkeypatch.setattr(jax_backend.sys, "platform", platform)
    assert cache_dir(environ) == base / "nnspec" / "jax"


def test_attributes_given_as_lists_are_the_tuples_they_stand_for() -> None:
    """A program is kept per attributes, so they must hash: a list (a backend called by hand
    with stride=[2, 2]) is taken as the tuple."""
    backend = JaxBackend()
    x = np.arange(16.0, dtype=np.float32).reshape(1, 1, 4, 4)
    listed = backend.avg_pool2d(x, [2, 2], [2, 2])
    np.testing.assert_array_equal(listed, backend.avg_pool2d(x, (2, 2), (2, 2)))
    assert listed.tolist() == [[[[2.5, 4.5], [10.5, 12.5]]]]


@contextmanager
def lowerings() -> Iterator[list[str]]:
    """The programs JAX lowers (traced and turned into XLA) inside the block, one entry each,
    by JAX's own duration events."""
    seen: list[str] = []

    def listen(event: str, seconds: float, **_: Any) -> None:
        if event == "/jax/core/compile/jaxpr_to_mlir_module_duration":
            seen.append(event)

    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        yield seen
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)


def test_a_cases_forward_and_gradient_checks_run_one_program() -> None:
    """Tracing and lowering are most of a warm run's time: the forward check and the gradient
    check of a case (here an LSTM's, three outputs) share one program, and a case of the same
    shapes with other values lowers nothing new."""
    case = golden_cases(["lstm"])[0]
    with lowerings() as lowered:
        report = run("jax", ops=["lstm"], dtype="float32", cases=[case])
    assert report.ok and report.passed == 2
    assert len(lowered) == 1
    backend = JaxBackend()
    inputs = [np.asarray(v, dtype=np.float32) for v in case.inputs_in(np.float32).values()]
    with lowerings() as lowered:
        out, h_n, c_n = backend.lstm(*inputs)
        grads = backend.vjp("lstm", tuple(inputs), {}, (out, h_n, c_n))
        backend.lstm(*(2 * x for x in inputs))
    assert len(lowered) == 1 and len(grads) == len(inputs)
    assert out.shape == inputs[0].shape[:2] + inputs[1].shape[1:] and h_n.shape == c_n.shape


def test_cases_differing_only_in_the_margin_share_a_program() -> None:
    """Δ is an argument of the max-margin program, not a constant in it (strides and windows,
    which set shapes, are constants)."""
    backend = JaxBackend()
    s, s_c = np.array([1.0, 2.0, 0.5], np.float32), np.array([0.2, 2.5, 0.5], np.float32)
    with lowerings() as lowered:
        got = {delta: backend.max_margin(s, s_c, delta) for delta in (1.0, 0.5, 0.0)}
        grads = backend.vjp("max_margin", (s, s_c), {"delta": 0.5}, (np.ones(3, np.float32),))
    assert len(lowered) == 1
    for delta, y in got.items():
        np.testing.assert_array_equal(y, np.maximum(np.float32(delta) + s_c - s, 0))
    np.testing.assert_array_equal(grads[0], [0.0, -1.0, -1.0])      # Δ + s_c − s = ‑0.3, 1, 0.5
    np.testing.assert_array_equal(grads[1], [0.0, 1.0, 1.0])


def _numpy_tanh(x: Any) -> Any:
    return jax.pure_callback(np.tanh, jax.ShapeDtypeStruct(x.shape, x.dtype), x)


OPS_NUMPY_TANH = {**jax_backend.OPS_JAX, "tanh": _numpy_tanh}


class NumPyTanh(JaxBackend):
    """A JAX port that calls NumPy for tanh through jax.pure_callback, which has no derivative:
    JAX cannot build its pullback."""

    ops = OPS_NUMPY_TANH


def test_a_forward_whose_pullback_jax_cannot_build_is_still_judged_on_its_outputs() -> None:
    """The forward check runs the op's forward and pullback together; when JAX cannot build the
    pullback, the forward alone gives the outputs: the forward check passes on them, and only
    the gradient check fails, with JAX's reason."""
    report = run(NumPyTanh(), ops=["tanh"], dtype="float32", cases=first_golden_per_op())
    forward, gradient = report.results
    assert forward.status == "pass", forward.reason
    assert gradient.status == "fail" and "Pure callbacks do not support JVP" in gradient.reason


class FakeConfig:
    """jax.config as _use_compilation_cache sees it, recording what it is told."""

    def __init__(self, folder: str | None) -> None:
        self.jax_compilation_cache_dir = folder
        self.updates: dict[str, Any] = {}

    def update(self, name: str, value: Any) -> None:
        self.updates[name] = value


def test_jax_is_pointed_at_the_cache_unless_it_has_a_folder_of_its_own(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    fresh = FakeConfig(None)
    monkeypatch.setattr(jax_backend.jax, "config", fresh)
    jax_backend._use_compilation_cache()
    assert fresh.updates == {"jax_compilation_cache_dir": str(tmp_path),
                             "jax_persistent_cache_min_compile_time_secs": 0.0}
    own = FakeConfig("/the/users/own")                       # JAX_COMPILATION_CACHE_DIR
    monkeypatch.setattr(jax_backend.jax, "config", own)
    jax_backend._use_compilation_cache()
    assert own.updates == {}
    off = FakeConfig(None)
    monkeypatch.setattr(jax_backend.jax, "config", off)
    monkeypatch.setenv(CACHE_ENV, "off")
    jax_backend._use_compilation_cache()
    assert off.updates == {}


COUNT_CACHE_USE = """
import json
from collections import Counter

import jax.monitoring

import conformance

events = Counter()
jax.monitoring.register_event_listener(lambda event, **_: events.update([event]))
report = conformance.run("jax", ops=["sigmoid"], dtype="float32")
print(json.dumps({"ok": report.ok, "checks": len(report.results),
                  "looked up": events["/jax/compilation_cache/compile_requests_use_cache"],
                  "found": events["/jax/compilation_cache/cache_hits"]}))
"""


def test_a_second_run_finds_the_first_runs_programs_in_the_cache(tmp_path: Path) -> None:
    """Two runs in fresh interpreters with the cache in a temporary folder (JAX's own events
    count the programs looked up and found there): the first compiles one program per geometry
    (its forward and pullback together) and stores them, the second finds every one."""
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_", "COVERAGE"))}
    env |= {CACHE_ENV: str(cache), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}

    def run_counting() -> dict[str, Any]:
        done = subprocess.run([sys.executable, "-c", COUNT_CACHE_USE], env=env,
                              capture_output=True, text=True, check=False, timeout=600)
        assert done.returncode == 0, done.stderr
        result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
        assert result["ok"] and result["checks"] > 0
        return result

    first = run_counting()
    stored = {p.name.partition("-")[0] for p in cache.glob("jit_*")}
    assert first["looked up"] > 0 and first["found"] == 0
    assert stored == {"jit__forward_and_pullback"}
    second = run_counting()
    assert second["found"] == second["looked up"] == first["looked up"]


def test_the_readme_says_where_the_cache_is_and_what_the_first_run_costs() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### The JAX adapter's compiled programs"):]
    section = section[:section.index("\n### ")]
    for words in ("~/.cache/nnspec/jax", "NNSPEC_JAX_CACHE=off", "NNSPEC_JAX_CACHE=DIR",
                  "JAX_COMPILATION_CACHE_DIR", "The first `nnspec run --backend jax`"):
        assert words in section, words
