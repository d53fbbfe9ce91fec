"""nnspec's conformance harness: check any backend against the specification, op by op.

    import conformance
    report = conformance.run("torch", ops=["conv2d", "lstm"], dtype="float32")
    print(report.table()); print(report.summary())

The contract (conformance.contract) says what a backend may implement; cases
(conformance.cases, conformance.slides, fixtures/golden/) what it is checked on; the runner
(conformance.runner) checks it and returns a Report (conformance.report) that renders as a table,
JSON (schema in conformance.schema) or JUnit XML. The ``nnspec`` command (conformance.cli) does
the same from a shell.
"""

from conformance.backends import BackendError, Bound, load_backend
from conformance.cases import Case
from conformance.contract import OPS, OpSpec
from conformance.report import Report, Result
from conformance.runner import run, run_case

__all__ = ["OPS", "BackendError", "Bound", "Case", "OpSpec", "Report", "Result", "load_backend",
           "run", "run_case"]
