"""The rough edges a new user met in their first hour (USER_REVIEW of session 21), each as the
user met it: what a hint tells a module of layer classes, what a missing framework's message
says to install, a class backend's version, the terminal's wrapping and colour, misspelt
options, a partial backend's skips, an expected failure of an op the backend lacks."""

from __future__ import annotations

import io
import re
import tomllib
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conformance.backends import FRAMEWORKS, BackendError, load_backend
from conformance.cli import main
from spec_tests.test_conformance_first_hour import nnspec

pytestmark = pytest.mark.infrastructure

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- 4: what to install
@pytest.mark.parametrize("name", sorted(FRAMEWORKS))
def test_a_shipped_adapter_without_its_framework_names_the_pinned_install(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each adapter's message names the versions pyproject's extras pin, and torch's the pinned
    CPU build (never the bare ``pip install torch`` that pulls CUDA)."""
    packages, install = FRAMEWORKS[name]
    real_import = __import__("importlib").import_module

    def import_module(module: str, package: str | None = None) -> Any:
        if module.startswith("conformance.adapters."):          # as without it installed
            raise ModuleNotFoundError(f"No module named '{packages[-1]}'", name=packages[-1])
        return real_import(module, package)

    monkeypatch.setattr("importlib.import_module", import_module)
    with pytest.raises(BackendError) as caught:
        load_backend(name)
    assert str(caught.value) == (f"backend {name!r} needs {packages[-1]}, which is not "
                                 f"installed here (No module named '{packages[-1]}'): {install}")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "project"]["optional-dependencies"]
    pinned = {r.split("==")[0]: r for extra in extras.values() for r in extra if "==" in r}
    words = install.split()
    assert words[:2] == ["pip", "install"]
    for word in words[2:]:
        if word.split("==")[0] in pinned:
            assert word == pinned[word.split("==")[0]], (name, word)
    if name == "torch":
        assert "torch==2.13.0" in words and "https://download.pytorch.org/whl/cpu" in install
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        assert "pip install torch==2.13.0 --index-url\nhttps://download.pytorch.org/whl/cpu" in (
            readme)


# ---------------------------------------------------------------- 9: a class backend's version
def test_a_class_backend_takes_its_modules_version(user_dir: Path) -> None:
    (user_dir / "versioned_backend.py").write_text(
        '__version__ = "0.1-student"\n\nimport numpy as np\n\n\nclass Backend:\n'
        '    def relu(self, x):\n        return np.maximum(x, 0.0)\n\n\n'
        'class Own:\n    version = "2.0"\n\n    def relu(self, x):\n'
        '        return np.maximum(x, 0.0)\n')
    code, text = nnspec("run", "--backend", "versioned_backend:Backend", "--ops", "relu", "-q")
    assert code == 0 and text.startswith("PASSED: versioned_backend:Backend 0.1-student, "), text
    assert load_backend("versioned_backend:Own").version == "2.0"     # its own first
    assert load_backend(types.SimpleNamespace(relu=np.abs)).version == "unknown"


# ---------------------------------------------------------------- 12, 18: numbers and words
# relu'(0) = 1: the only wrong elements are where 0 is expected (and dy < 0 gives −0.0 there)
relu_one_at_zero = types.SimpleNamespace(relu=lambda x: np.maximum(x, 0.0),
                                         relu_backward=lambda dy, x: dy * (x >= 0))


def test_an_undefined_relative_error_is_null_in_json_as_the_text_says(tmp_path: Path) -> None:
    """The reason says "max rel error undefined (every error is where 0 is expected)": the JSON
    report says null there, not 0.0 (which would claim the check exact); a −0.0 prints as 0."""
    import json

    path = tmp_path / "r.json"
    code, text = nnspec("run", "--backend",
                        "spec_tests.test_conformance_user_review:relu_one_at_zero",
                        "--ops", "relu", "--json", str(path), "-v")
    assert code == 1
    doc = json.loads(path.read_text(encoding="utf-8"))
    golden = next(r for r in doc["results"] if r["id"] == "relu[gradient-golden-01]")
    assert "max rel error undefined (every error is where 0 is expected)" in golden["reason"]
    assert golden["max_rel_error"] is None and golden["max_abs_error"] > 1
    assert golden["reason"].endswith("(got -1.2172156572341919, expected 0)")
    assert "expected -0)" not in text and "got -0," not in text
    passed = next(r for r in doc["results"] if r["status"] == "pass")
    assert passed["max_rel_error"] == 0.0 and passed["max_abs_error"] == 0.0


def test_an_rnn_case_speaks_of_no_gates() -> None:
    from conformance.cases import golden_cases
    from conformance.golden import plans

    for op in ("rnn", "lstm", "gru"):
        drafts = [draft.about for _, draft in plans(op)]
        assert [c.about for c in golden_cases([op])] == drafts     # as stored
        assert all(("gate" in about) == (op != "rnn") for about in drafts), drafts


# ---------------------------------------------------------------- 14: misspelt names
@pytest.mark.parametrize(("argv", "usage", "message"), [
    (["run", "--exmaples", "5"], "usage: nnspec run ",
     "nnspec run: error: unrecognized arguments: --exmaples 5 (did you mean --examples?)"),
    (["run", "--exmaples=5", "--jsn", "x"], "usage: nnspec run ",
     "unrecognized arguments: --exmaples=5 --jsn x (did you mean --examples or --json?)"),
    (["list", "--markdwn"], "usage: nnspec list ",
     "nnspec list: error: unrecognized arguments: --markdwn (did you mean --markdown?)"),
    (["run", "--frobnicate", "stray"], "usage: nnspec run ",
     "nnspec run: error: unrecognized arguments: --frobnicate stray\n"),
])
def test_a_misspelt_option_gets_the_commands_usage_and_the_close_option(
        argv: list[str], usage: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = nnspec(*argv)
    err = capsys.readouterr().err
    assert code == 2 and text == ""
    assert err.startswith(usage) and message in err, err


def test_a_misspelt_attribute_of_a_backend_module_gets_the_close_name(
        user_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (user_dir / "close_backend.py").write_text("class Backend:\n    pass\n\n\nother = 1\n")
    assert nnspec("run", "--backend", "close_backend:backend") == (2, "")
    assert capsys.readouterr().err == ("nnspec: error: 'close_backend' has no attribute "
                                       "'backend' (did you mean 'Backend'?)\n")
    assert nnspec("run", "--backend", "close_backend:nothing_like_it") == (2, "")
    assert capsys.readouterr().err == ("nnspec: error: 'close_backend' has no attribute "
                                       "'nothing_like_it'\n")


# ---------------------------------------------------------------- 16: listed but not run
def test_an_expected_failure_of_an_op_the_backend_lacks_is_reported_as_not_run(
        tmp_path: Path) -> None:
    import json

    listed = tmp_path / "known.txt"
    listed.write_text("lstm[forward-golden-01] stale on purpose\n"
                      "relu[gradient-golden-01] relu'(0) = 1 by design\n", encoding="utf-8")
    path = tmp_path / "r.json"
    code, text = nnspec("run", "--backend",
                        "spec_tests.test_conformance_user_review:relu_one_at_zero",
                        "--ops", "relu,lstm", "--xfail", str(listed), "--json", str(path))
    assert code == 1                          # relu's other failures (slides, golden-02, ...)
    assert (f"\nlisted in {listed} but not run (skipped: nothing confirms or refutes them "
            f"here):\n  lstm[forward-golden-01]: spec_tests.test_conformance_user_review:"
            f"relu_one_at_zero has no lstm (listed: stale on purpose)\n") in text
    assert "stale entries" not in text
    assert ", 1 expected failure (--xfail), 1 listed in --xfail but not run, " in (
        text.splitlines()[-1])
    doc = json.loads(path.read_text(encoding="utf-8"))
    lstm = next(r for r in doc["results"] if r["id"] == "lstm[forward-golden-01]")
    assert lstm["status"] == "skip" and lstm["expected_failure"] == "stale on purpose"
    assert doc["xfail"]["stale"] == []


# ---------------------------------------------------------------- 15: a partial backend
partial = types.SimpleNamespace(relu=lambda x: np.maximum(x, 0.0),
                                relu_backward=lambda dy, x: dy * (x > 0), tanh=np.tanh)


def test_a_partial_backend_folds_its_missing_ops_and_v_leaves_out_the_skips(
        tmp_path: Path) -> None:
    import json

    from conformance.runner import default_cases

    backend = "spec_tests.test_conformance_user_review:partial"
    path = tmp_path / "r.json"
    code, text = nnspec("run", "--backend", backend, "--ops", "relu,tanh,conv2d,lstm", "--json",
                        str(path))
    assert code == 0
    table = text.split("\n\n")[1].splitlines()
    assert [row.split()[0] for row in table[2:4]] == ["relu", "tanh"]
    missing = sum(1 + c.has_gradient for c in default_cases(["conv2d", "lstm"]))
    assert table[4:] == [f"not implemented by the backend ({missing} checks skipped): "
                         f"conv2d, lstm"]
    assert "skip  skip" not in text
    doc = json.loads(path.read_text(encoding="utf-8"))          # the report lists every check
    assert sum(r["status"] == "skip" for r in doc["results"]) == doc["summary"]["skipped"] > (
        missing)                                                  # (+ tanh's gradient)
    code, verbose = nnspec("run", "--backend", backend, "--ops", "relu,tanh,conv2d,lstm", "-v")
    assert code == 0 and "SKIP " not in verbose and "PASS relu[forward-golden-01]" in verbose
    code, very = nnspec("run", "--backend", backend, "--ops", "relu,tanh,conv2d,lstm", "-vv")
    assert very.count("\nSKIP ") == doc["summary"]["skipped"]
    assert f"SKIP lstm[forward-golden-01]: not implemented: {backend} has no lstm" in very


# ---------------------------------------------------------------- 11: what the counts count
def test_property_mode_says_what_each_count_counts() -> None:
    """The property cell counts drawn cases (pass 2×N), a failing one the failing cases of those
    drawn (a check stops at its first failure); the summary counts checks and says how many of
    them are property checks over how many drawn cases."""
    from conformance.runner import run

    wrong_tanh = types.SimpleNamespace(relu=lambda x: np.maximum(x, 0.0),
                                       relu_backward=lambda dy, x: dy * (x > 0),
                                       tanh=lambda x: np.tanh(x) + (np.abs(x) > 0.5))
    report = run(wrong_tanh, ops=["relu", "tanh"], property=True, examples=30)
    prop = {(r.case.op, r.check): r for r in report.results if r.case.source == "property"}
    drawn = prop["tanh", "forward"].examples        # (tanh has no backward here: a skip)
    assert prop["tanh", "forward"].status == "fail" and drawn < 30
    table = report.table().splitlines()
    assert table[2].startswith("relu ") and table[2].split()[-3:-1] == ["pass", "60"]
    assert table[3].startswith("tanh ") and f"FAIL 1/{drawn}  " in table[3]
    assert table[4].startswith("(property: drawn cases, forward and gradient together; a check "
                               "stops drawing at its first failing case")
    golden = sum(r.status == "pass" for r in report.results if r.case.source != "property")
    assert (f": {golden + 2} passed (2 of them property checks, 60 drawn cases), "
            f"{report.failed} failed (1 of them property checks), ") in report.summary()
    plain = run(wrong_tanh, ops=["relu"])
    assert "property" not in plain.table() and "drawn" not in plain.summary()


# ---------------------------------------------------------------- 3: layer classes
LAYERS = '''
import numpy as np

__version__ = "0.1-layers"


class Linear:
    def forward(self, x, w, b):
        self.cache = (x, w)
        return x @ w.T + b

    def backward(self, dy):
        x, w = self.cache
        return dy @ w, dy.T @ x, dy.sum(axis=0)


class ReLU:
    def forward(self, x):
        self.x = x
        return np.maximum(x, 0)

    def backward(self, dy):
        return dy * (self.x > 0)


def sigmoid(z):                     # a helper of the layers, named as a contract op
    return 1 / (1 + np.exp(-z))
'''


def test_a_module_of_layer_classes_is_told_to_wrap_them_not_to_rename_them(
        user_dir: Path) -> None:
    from conformance.cli import LAYER_CLASSES

    (user_dir / "ur_layers.py").write_text(LAYERS)
    code, text = nnspec("run", "--backend", "ur_layers", "-q")
    assert code == 1                      # the helper sigmoid overflows at x = −1e4
    hints = [line for line in text.splitlines() if line.startswith("hint: ")]
    assert hints == [
        "hint: Linear, ReLU are classes: nnspec calls functions (or methods of one backend "
        "object) with the contract's names and signatures, e.g. relu(x) -> y and "
        "relu_backward(dy, x) -> dx; renaming a class does not make it one. Wrap your layers' "
        f"forward and backward in such functions ({LAYER_CLASSES})",
        "hint: ur_layers's function sigmoid is checked as the contract's sigmoid(x) -> y, by "
        "name: a helper of your layers named so is taken for the op"]
    heading = LAYER_CLASSES.split('"')[1]
    assert f"\n## {heading}\n" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "misnamed" not in text


def test_a_module_of_functions_gets_no_class_hint(user_dir: Path) -> None:
    (user_dir / "ur_funcs.py").write_text(
        "import numpy as np\n\n\ndef sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n\n\n"
        "def Relu(x):\n    return np.maximum(x, 0)\n")
    code, text = nnspec("run", "--backend", "ur_funcs", "--ops", "sigmoid,relu", "-q")
    assert code == 1 and "function sigmoid is checked" not in text
    assert [line for line in text.splitlines() if line.startswith("hint: ")] == [
        "hint: some functions look misnamed (Relu → relu): nnspec calls the contract's names "
        "exactly (nnspec list)"]


def test_the_readmes_layer_adapter_passes_against_caching_layers(user_dir: Path) -> None:
    """The README's recipe, run as written next to a mynn.py of caching layer classes."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- layer-adapter:start -->\n```python\n")[1].split("```")[0]
    (user_dir / "mynn.py").write_text(LAYERS)
    (user_dir / "mynn_backend.py").write_text(block)
    code, text = nnspec("run", "--backend", "mynn_backend", "--ops", "linear", "-q")
    assert code == 0 and text.startswith("PASSED: mynn_backend 1.0, float64: "), text
    # the same adapter without the forward in its backward: the diagnosis names the cache
    (user_dir / "mynn_cached.py").write_text(block.replace("    layer.forward(x, w, b)", "")
                                             .replace("layer = mynn.Linear()", "layer = LAST")
                                             .replace("return mynn.Linear().forward(x, w, b)",
                                                      "return LAST.forward(x, w, b)")
                                             + "\nLAST = mynn.Linear()\n")
    code, text = nnspec("run", "--backend", "mynn_cached", "--ops", "linear")
    assert code == 1 and "diagnosis: " in text and "cache" in text   # (its words: diagnosis.py)


# ---------------------------------------------------------------- 17: the set-up's first screen
def test_the_setup_offers_the_light_install_and_the_suites_time_at_once() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme[readme.index("## Set up"):readme.index("**Light install, to check")]
    full = setup.index('pip install torch==2.13.0 -e ".[dev')
    light = setup.index("`pip install .` is enough")
    suite = setup.index("pytest -n auto --cov --cov-fail-under=95")
    assert full < light < suite                   # the full install first, the light one beside
    # the suite's time beside its command, with as many tests as the measurement below says
    said = re.search(r"about (\d+ min \d+ s) on an idle 2-core machine \(([\d,]+) tests", setup)
    assert said is not None
    measured = re.search(r"the whole suite, ([\d,]+) tests, `pytest -n auto --cov` \(2 "
                         r"workers\), (\d+ min \d+ s)", " ".join(readme.split()))
    assert measured is not None and measured.group(1) == said.group(2)
    minutes = [int(t.split()[0]) * 60 + int(t.split()[2]) for t in (said.group(1),
                                                                     measured.group(2))]
    assert abs(minutes[0] - minutes[1]) <= 10


# ---------------------------------------------------------------- 5: the terminal
class _Tty(io.StringIO):
    """A stream that says it is a terminal (its width: COLUMNS, as shutil reads it)."""

    def isatty(self) -> bool:
        return True


BLOCK = ("  FAIL relu[gradient-golden-01]: dx: max abs error 1.22, max rel error undefined "
         "(every error is where 0 is expected) exceeds rtol=5.7e-14\n"
         "       diagnosis: matches relu'(0) = 1 (the gradient passed where x = 0), the "
         "convention relu_grad_at_zero=one\n"
         "       anatomy: short\n"
         "       reproducer:\n"
         "         x = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, "
         "12.0]])")


def test_wrap_keeps_a_failure_grouped_under_its_fail_line() -> None:
    from conformance.cli import wrap

    assert wrap(BLOCK, 200) == BLOCK                       # what fits is unchanged
    lines = wrap(BLOCK, 60).splitlines()
    assert lines[:5] == [
        "  FAIL relu[gradient-golden-01]: dx: max abs error 1.22, max",
        "         rel error undefined (every error is where 0 is",
        "         expected) exceeds rtol=5.7e-14",
        "       diagnosis: matches relu'(0) = 1 (the gradient passed",
        "         where x = 0), the convention relu_grad_at_zero=one"]
    assert lines[5:] == BLOCK.splitlines()[2:]            # short lines and the code as they are
    assert all(len(line) <= 60 for line in lines[:5])
    # a word longer than the width is not split; a line of another kind hangs by 2
    assert wrap("  12× " + "x" * 70 + " tail", 40).splitlines() == ["  12×", "    " + "x" * 70,
                                                                     "    tail"]


def test_colour_marks_failures_in_lines_tables_and_the_summary() -> None:
    from conformance.cli import GREEN, RED, RESET, colour

    assert colour("  FAIL relu[x]: FAIL in a reason") == (
        f"  {RED}FAIL{RESET} relu[x]: FAIL in a reason")
    assert colour("relu  pass 4  FAIL 1/4  1.2e+00", table=True) == (
        f"relu  pass 4  {RED}FAIL{RESET} 1/4  1.2e+00")
    assert colour("FAILED: funcs 0.2") == f"{RED}FAILED{RESET}: funcs 0.2"
    assert colour("PASSED: funcs 0.2") == f"{GREEN}PASSED{RESET}: funcs 0.2"
    assert colour("PASS relu[x]: y: within") == "PASS relu[x]: y: within"


@pytest.mark.parametrize("no_color", ["", "1"])
def test_a_terminal_gets_wrapped_and_coloured_output_and_a_file_the_same_bytes(
        no_color: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.cli import RED, wrap

    monkeypatch.setenv("COLUMNS", "70")
    monkeypatch.setenv("NO_COLOR", no_color)
    monkeypatch.delenv("TERM", raising=False)
    argv = ["run", "--backend", "spec_tests.test_conformance_user_review:relu_one_at_zero",
            "--ops", "relu", "--max-failures", "1"]
    plain = io.StringIO()
    assert main(argv, out=plain) == 1
    tty = _Tty()
    assert main(argv, out=tty) == 1
    # the one-line progress, each rewritten in place, then cleared
    shown = re.sub(r"\r\033\[K\d+ checks done; running [^\r\n]*(?=\r)", "", tty.getvalue())
    shown = shown.replace("\r\033[K", "")
    assert (RED in shown) == (no_color == "")
    unstyled = shown.replace(RED, "").replace("\033[32m", "").replace("\033[0m", "")
    times = re.compile(r"in \d+\.\d s")
    text = plain.getvalue()
    assert times.sub("", unstyled) == times.sub("", "\n".join(
        line if line.startswith("relu ") else wrap(line, 70) for line in text.split("\n")))
    assert max(len(line) for line in unstyled.splitlines() if not line.startswith(
        "relu ")) <= 70 < max(len(line) for line in text.splitlines())


# ---------------------------------------------------------------- 13: the scoreboard
# a float32 run that fails on dtype only, a softmax that overflows to nan, a sigmoid that warns
dtype_only = types.SimpleNamespace(
    relu=lambda x: np.maximum(x, 0),
    relu_backward=lambda dy, x: (dy * (x > 0)).astype(np.float64),
    softmax=lambda x: np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True),
    sigmoid=lambda x: 1 / (1 + np.exp(-x)))


def test_a_failure_within_tolerance_says_what_it_failed_on_in_the_terminal_table() -> None:
    from conformance.runner import run

    report = run(dtype_only, ops=["relu", "softmax", "sigmoid"], dtype="float32")
    rows = {line.split()[0]: line for line in report.table().splitlines()[2:]}
    assert rows["relu"].split()[4:7] == ["FAIL", "4/4", "dtype"]       # not 0.0e+00
    assert rows["sigmoid"].split()[1:4] == ["FAIL", "1/5", "warned"]
    assert rows["softmax"].split()[1:4] == ["FAIL", "2/6", "nan"]        # no error to show


def _wide_board(dtype_reason: str) -> Any:
    """Eight backends in two dtypes, long versions, xfails and forward-only cells, and a float32
    run that fails on dtype only, as docs/scoreboard.html holds them."""
    from conformance.matrix import Run, Scoreboard
    from spec_tests.test_conformance_matrix import report, result

    runs = []
    for i, backend in enumerate(["numpy", "torch", "jax", "onnxruntime", "onnx-reference",
                                 "keras", "tinygrad", "mygrad"]):
        for dtype in ("float64", "float32"):
            results = [result(op, "pass", 0.003, check=check) for op in ("step", "relu",
                                                                         "cross_entropy")
                       for check in ("forward", "gradient")]
            if i == 4:
                results = [result("cross_entropy", "xfail", None, case=f"{n:02}")
                           for n in range(12)] + [result("relu", "skip", None,
                                                         check="gradient")] + results
            if i == 7 and dtype == "float32":
                results.append(result("relu", "fail", 0.005, case="07", check="gradient",
                                      reason=dtype_reason))
            runs.append(Run(backend, dtype, report=report(
                backend, dtype, results, version="1.32.0 (onnx 1.23.2, opset 21)"), seconds=1))
    return Scoreboard(runs, command="nnspec matrix --out docs", generated="2026-12-05 01:00 UTC")


def _dtype_reason() -> str:
    """The reason the harness gives a float64 array in a float32 run (from a real check)."""
    from conformance.runner import run

    failed = run(dtype_only, ops=["relu"], dtype="float32").failures()
    return next(r.reason for r in failed if r.case.source == "golden")


def test_a_dtype_only_failure_is_named_and_plotted_apart_from_the_passes() -> None:
    from conformance.matrix import _cell_text, svg_plot

    board = _wide_board(_dtype_reason())
    mygrad32 = board.ran[-1]
    cell = board.cell(mygrad32, "relu")
    assert cell is not None and _cell_text(cell) == ("✗ fail 1/3", "dtype", "")
    svg = svg_plot(board)
    ticks = re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" '
                       r'fill="#444444">([^<]+)</text>', svg)
    none = re.search(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" '
                     r'fill="#8c1a10">no ratio</text>', svg)
    assert none is not None and ticks
    last = max(float(x) for x, _ in ticks)
    # the last tick's label (3 characters) and "no ratio" (8), about 7 px each, well apart
    assert float(none.group(1)) - last >= 7 * (3 + 8) / 2 + 12
    # the dtype failure's marker sits in that column, not among the passes
    failing = re.search(r'<a href="#[^"]+"><g><polygon points="([\d.]+),', svg)
    assert failing is not None and abs(float(failing.group(1)) - float(none.group(1))) < 2
    assert "failed on: dtype</title>" in svg
    # the dtypes' key is drawn in no backend's colour
    key = re.findall(r'fill="(#[0-9a-f]{6})" stroke="#222222"', svg)
    backends = set(re.findall(r'<circle cx="[\d.]+" cy="16\.0" r="5\.0" fill="(#[0-9a-f]{6})"',
                              svg))
    assert key and len(backends) == 8 and not set(key) & backends


CHROMIUM = __import__("shutil").which("chromium") or __import__("shutil").which(
    "chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install "
                    "chromium; .ci/run installs it)")
@pytest.mark.parametrize("width", [1280, 1920])
def test_the_results_table_of_sixteen_runs_fits_a_1280_pixel_window(
        width: int, tmp_path: Path) -> None:
    """In headless Chromium, the page's results table (8 backends × 2 dtypes) is no wider than
    its box: no column behind a scrollbar. A copy of the page measures itself in a script (the
    page has none)."""
    import subprocess

    from conformance.matrix import html_page

    page = html_page(_wide_board(_dtype_reason()))
    probe = ("<script>const box = document.querySelector('#results + p + .scroll');"
             "const sub = document.querySelector('#results + p');"
             "document.title = [box.scrollWidth, box.clientWidth, sub.scrollWidth, "
             "sub.clientWidth, document.documentElement.scrollWidth].join(' ');</script>")
    path = tmp_path / "page.html"
    path.write_text(page.replace("</body>", probe + "</body>"), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
             f"--window-size={width},1000", "--dump-dom", path.as_uri()]
    done = subprocess.run([str(CHROMIUM), *flags], capture_output=True, text=True, timeout=180,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    title = re.search(r"<title>([\d ]+)</title>", done.stdout)
    assert title is not None, done.stdout[:500]
    table, box, caption, caption_box, page_width = map(int, title.group(1).split())
    assert table <= box and caption <= caption_box and page_width <= width, title.group(1)
