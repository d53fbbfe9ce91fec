"""nnspec's conformance harness: check any backend against the specification, op by op.

    import conformance
    report = conformance.run("torch", ops=["conv2d", "lstm"], dtype="float32")
    print(report.table()); print(report.summary())

The contract (conformance.contract) says what a backend may implement; cases
(conformance.cases, conformance.slides, fixtures/golden/) what it is checked on; the runner
(conformance.runner) checks it and returns a Report (conformance.report) that renders as a table,
JSON (schema in conformance.schema) or JUnit XML. Property mode (conformance.property) adds
randomly drawn cases, a failure shrunk by Hypothesis, with reproducers (conformance.reproducer);
a failure is diagnosed (conformance.diagnosis); a broken backend cannot stop the run
(conformance.isolation). The
``nnspec`` command (conformance.cli) and the pytest plugin (conformance.pytest_plugin) do the
same from a shell and from pytest.

The names below are imported on first use: pytest loads conformance.pytest_plugin in every run,
which must not import NumPy and the harness unless asked to.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.backends import BackendError, Bound, load_backend
    from conformance.cases import Case
    from conformance.contract import OPS, OpSpec
    from conformance.report import Report, Result
    from conformance.runner import run, run_case

__all__ = ["OPS", "BackendError", "Bound", "Case", "OpSpec", "Report", "Result", "load_backend",
           "run", "run_case"]

_HOME = {
    "BackendError": "backends", "Bound": "backends", "load_backend": "backends",
    "Case": "cases", "OPS": "contract", "OpSpec": "contract", "Report": "report",
    "Result": "report", "run": "runner", "run_case": "runner",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'conformance' has no attribute {name!r}")
    return getattr(importlib.import_module(f"conformance.{_HOME[name]}"), name)
