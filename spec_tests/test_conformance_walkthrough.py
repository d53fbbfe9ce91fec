"""The README's walkthrough "validate your own implementation", reproduced: every command of its
``console`` blocks runs (nnspec in-process, pytest through pytester, python and cat on the files
made) and prints exactly what the README shows, timings and version numbers aside.

After a deliberate change of the harness's output, regenerate the shown output with
``NNSPEC_UPDATE_README=1 pytest spec_tests/test_conformance_walkthrough.py`` (it rewrites the
console blocks between the walkthrough markers only).
"""

from __future__ import annotations

import contextlib
import difflib
import io
import os
import re
import runpy
import shlex
import subprocess
from pathlib import Path

import pytest

from conformance.cli import main

pytestmark = pytest.mark.infrastructure
pytest_plugins = ("pytester",)

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SECTION = re.compile(r"(<!-- walkthrough:start -->\n)(.*?)(<!-- walkthrough:end -->)", re.S)
CONSOLE = re.compile(r"(```console\n)(.*?)(```)", re.S)
# what may differ from run to run or machine to machine, and nothing else
VOLATILE = [
    (re.compile(r"\bin \d+(\.\d+)? ?s\b"), "in <time> s"),                   # run times
    (re.compile(r"nnspec \S+ \(spec \S+\)"), "nnspec <version> (spec <version>)"),
    # float64 rounding of a passing check: its last bits depend on the machine's BLAS kernels
    (re.compile(r"\b\d\.\de-1[3-9]\b"), "<rounding>"),
]


def _normalise(text: str) -> str:
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text.rstrip("\n")


def _commands(block: str) -> list[tuple[str, str]]:
    """(command, the output shown after it) for every ``$ command`` line of a console block."""
    pairs: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:], []))
        else:
            pairs[-1][1].append(line)
    return [(command, "\n".join(shown)) for command, shown in pairs]


def _run(command: str, pytester: pytest.Pytester) -> str:
    """What ``command`` prints, run in the pytester folder."""
    program, *args = shlex.split(command)
    out = io.StringIO()
    if program == "nnspec":
        main(args, out=out)
    elif program == "python":
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):  # (its status)
            runpy.run_path(args[0], run_name="__main__")
    elif program == "cat":
        out.write(Path(args[0]).read_text(encoding="utf-8"))
    elif program == "diff":
        out.write(subprocess.run(["diff", *args], cwd=ROOT, capture_output=True, text=True,
                                 check=False).stdout)
    elif program == "pytest":
        result = pytester.runpytest_inprocess(*args)
        out.write("\n".join(result.outlines) + "\n")
    else:  # pragma: no cover - a walkthrough command this test does not know
        raise AssertionError(f"the walkthrough runs {program!r}: teach this test to run it")
    return out.getvalue()


def test_the_walkthrough_prints_what_the_readme_shows(pytester: pytest.Pytester) -> None:
    readme = README.read_text(encoding="utf-8")
    section = SECTION.search(readme)
    assert section is not None, "README.md lacks the walkthrough markers"
    update = bool(os.environ.get("NNSPEC_UPDATE_README"))
    ran: list[str] = []

    def rebuild(block: re.Match[str]) -> str:
        lines = []
        for command, shown in _commands(block.group(2)):
            printed = _run(command, pytester)
            ran.append(command)
            if not update:
                assert _normalise(printed) == _normalise(shown), f"$ {command}"
            lines += [f"$ {command}", printed.rstrip("\n")]
        return block.group(1) + "\n".join(lines) + "\n" + block.group(3)

    body = CONSOLE.sub(rebuild, section.group(2))
    assert [c.split()[0] for c in ran].count("nnspec") >= 3 and "pytest" in " ".join(ran)
    if update:
        README.write_text(readme[:section.start(2)] + body + readme[section.end(2):],
                          encoding="utf-8")


def test_the_buggy_example_is_the_student_file_with_one_line_added() -> None:
    folder = ROOT / "conformance" / "examples"
    good = (folder / "student.py").read_text(encoding="utf-8").splitlines()
    buggy = (folder / "student_buggy.py").read_text(encoding="utf-8").splitlines()
    changes = [line for line in difflib.unified_diff(good, buggy, lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changes == ["+    w = w[:, :, ::-1, ::-1]                 # a convolution flips "
                       "the kernel"]


def test_the_example_backends_pass_every_other_op_they_have() -> None:
    from conformance.runner import run

    for name in ("student", "student_buggy"):
        report = run(f"conformance.examples.{name}", ops=["relu", "linear", "max_pool2d"])
        assert report.ok and report.skipped == 0
