"""Tests of conformance.conventions: a backend declares the convention variants it follows, and
nnspec checks the cases a declared variant changes against that variant (issue #13 §2).

The backends are written here (or in spec_tests/conformance_mistakes.py) in torch, independently
of the reference: one that splits max-pool ties as tinygrad does (torch's amax), one that sums
cross-entropy over the batch, one that takes relu'(0) = 1 (torch's clamp). Each is run declaring
truthfully, declaring untruthfully and not declaring at all.
"""

from __future__ import annotations

import inspect
import io
import json
import types
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import conformance
from conformance import conventions as C
from conformance.cli import main
from conformance.report import Report
from conformance.schema import validate
from spec_tests import conformance_mistakes as mistakes

pytestmark = pytest.mark.infrastructure

SPLIT_DECLARED = ("--convention max_pool_ties=split, or conventions = {'max_pool_ties': "
                  "'split'} on the backend")


def declaring(backend: Any, **declared: str) -> types.SimpleNamespace:
    """``backend``'s functions, with a ``conventions`` attribute declaring ``declared``."""
    return types.SimpleNamespace(**vars(backend), conventions=declared)


relu_clamped = types.SimpleNamespace(
    relu=lambda x: np.maximum(x, 0.0),
    relu_backward=lambda dy, x: dy * (x >= 0),              # torch.clamp(x, min=0)'s slope at 0
)


def _by_id(report: Report) -> dict[str, Any]:
    return {r.id: r for r in report.results}


# ---------------------------------------------------------------- declared truthfully
def test_a_backend_that_declares_split_and_splits_passes_as_declared() -> None:
    report = conformance.run(declaring(mistakes.max_pool_ties_split, max_pool_ties="split"),
                             ops=["max_pool2d"])
    assert report.ok and report.conventions == {"max_pool_ties": "split"}
    declared = [r for r in report.results if r.declared]
    # only the check a tie changes is judged under the variant: the golden tie case's gradient
    assert [r.id for r in declared] == ["max_pool2d[gradient-golden-07]"]
    assert declared[0].status == "pass" and declared[0].declared == (("max_pool_ties", "split"),)
    assert declared[0].line().startswith(
        "PASS max_pool2d[gradient-golden-07] (declared: max-pool ties split): dx: ")
    assert "(1 declared: max-pool ties split)" in report.table()
    assert "passed (1 under declared conventions), 0 failed" in report.summary()


@pytest.mark.parametrize(("backend", "declared", "changed"), [
    # every case but golden-01, whose one row makes the sum the mean; forward and gradient
    (mistakes.cross_entropy_summed, {"cross_entropy_reduction": "sum"},
     {f"{check}-golden-0{i}" for check in ("forward", "gradient") for i in range(2, 7)}),
    # the gradients of the cases holding an x = 0: golden-01 (three) and a slide's hidden layer
    (relu_clamped, {"relu_grad_at_zero": "one"},
     {"gradient-golden-01", "gradient-slide-window_paris_relu_hidden_relu"}),
], ids=["cross-entropy-sum", "relu-at-zero-one"])
def test_other_declared_variants_pass_where_they_change_the_case(backend: Any,
                                                                 declared: dict[str, str],
                                                                 changed: set[str]) -> None:
    op = C.CONVENTIONS[next(iter(declared))].op
    report = conformance.run(declaring(backend, **declared), ops=[op])
    assert report.ok, report.summary()
    assert {r.id.split("[", 1)[1].rstrip("]") for r in report.results if r.declared} == changed
    undeclared = conformance.run(backend, ops=[op])
    assert {r.id for r in undeclared.failures()} == {f"{op}[{c}]" for c in changed}


# ---------------------------------------------------------------- not declared, or untruthfully
def test_an_undeclared_difference_fails_and_names_the_declaration_that_would_describe_it() -> None:
    report = conformance.run(mistakes.max_pool_ties_split, ops=["max_pool2d"])
    (failure,) = report.failures()
    assert failure.id == "max_pool2d[gradient-golden-07]" and not failure.declared
    assert failure.diagnosis == (
        "matches a window's gradient split equally between its k tied maxima (1/k each) "
        "(tinygrad), the convention max_pool_ties=split; the spec takes a window's gradient "
        f"sent whole to its first maximum in row-major order: if your backend does this by "
        f"design, declare it ({SPLIT_DECLARED}) [breaks pool.max, convention.pooling]")


def test_a_backend_declaring_split_that_sends_the_gradient_to_the_first_maximum_fails() -> None:
    report = conformance.run("torch", ops=["max_pool2d"],
                             conventions=["max_pool_ties=split"])
    (failure,) = report.failures()
    assert failure.id == "max_pool2d[gradient-golden-07]"
    assert failure.declared == (("max_pool_ties", "split"),)
    assert failure.line().startswith("FAIL max_pool2d[gradient-golden-07] (declared: max-pool "
                                     "ties split): dx: ")
    # the declaration is what is wrong: no claim of the spec is broken
    assert failure.diagnosis == (
        "matches a window's gradient sent whole to its first maximum in row-major order, the "
        "spec's variant, not the declared max_pool_ties=split (a window's gradient split "
        "equally between its k tied maxima (1/k each)): the declaration does not describe the "
        "backend; drop it")


def test_a_backend_declaring_one_variant_and_following_another_is_told_which() -> None:
    backend = declaring(mistakes.max_pool_ties_last, max_pool_ties="split")
    (failure,) = conformance.run(backend, ops=["max_pool2d"]).failures()
    assert failure.diagnosis is not None and failure.diagnosis.startswith(
        "matches a window's gradient sent whole to its last maximum in row-major order, the "
        "convention max_pool_ties=last, not the declared max_pool_ties=split (a window's "
        "gradient split equally between its k tied maxima (1/k each)): declare "
        "max_pool_ties=last instead [breaks pool.max, convention.pooling]")


def test_the_command_line_overrides_the_backends_own_declaration() -> None:
    backend = declaring(mistakes.max_pool_ties_split, max_pool_ties="last")
    assert conformance.run(backend, ops=["max_pool2d"], conventions={"max_pool_ties": "split"}
                           ).ok
    assert not conformance.run(backend, ops=["max_pool2d"]).ok


# ---------------------------------------------------------------- reports
def test_declared_variants_show_in_json_junit_and_the_summary(tmp_path: Path) -> None:
    report = conformance.run(declaring(mistakes.max_pool_ties_split, max_pool_ties="split"),
                             ops=["max_pool2d"])
    doc = json.loads(json.dumps(report.to_dict()))
    assert validate(doc) == []
    assert doc["conventions"] == {"max_pool_ties": "split"}
    declared = {r["id"]: r["declared"] for r in doc["results"] if r["declared"]}
    assert declared == {"max_pool2d[gradient-golden-07]": {"max_pool_ties": "split"}}
    report.write_junit(tmp_path / "junit.xml")
    root = ET.parse(tmp_path / "junit.xml").getroot()
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["convention.max_pool_ties"] == "split"
    assert props["declared"] == "max-pool ties split"      # on the testcase it changed


def test_the_command_line_prints_the_declaration_and_judges_under_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["run", "--backend", "torch", "--ops", "max_pool2d",
                   "--convention", "max_pool_ties=split"])
    out = capsys.readouterr().out
    assert status == 1
    assert ("declared conventions: max_pool_ties=split (max-pool ties split): the cases they "
            "change are checked under them") in out
    assert "FAIL max_pool2d[gradient-golden-07] (declared: max-pool ties split)" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["--convention", "max_pool_ties"], "--convention wants NAME=VARIANT (e.g. "
                                        "max_pool_ties=split), got 'max_pool_ties'"),
    (["--convention", "pool_ties=split"], "unknown convention 'pool_ties'; the conventions are "
                                          "max_pool_ties (first, last, split); gru_reset"),
    (["--convention", "gru_reset=never"], "convention gru_reset has no variant 'never'; its "
                                          "variants are after, before"),
], ids=["no-variant", "unknown-name", "unknown-variant"])
def test_a_bad_declaration_is_a_usage_error_that_lists_the_choices(
        argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("declared", "error", "message"), [
    ({"max_pool_ties": "splt"}, ValueError, "backend.conventions: convention max_pool_ties has "
                                            "no variant 'splt'"),
    (["max_pool_ties=split"], TypeError, "backend.conventions must map convention names to "
                                         "variant names"),
], ids=["bad-variant", "not-a-mapping"])
def test_a_backends_bad_declaration_is_refused_by_name(declared: Any, error: type[Exception],
                                                       message: str) -> None:
    backend = types.SimpleNamespace(name="backend", relu=lambda x: x, conventions=declared)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        conformance.run(backend, ops=["relu"])


def test_an_isolated_backend_declares_through_its_process() -> None:
    report = conformance.run("spec_tests.test_conformance_conventions:split_declared",
                             ops=["max_pool2d"], isolate=True)
    assert report.ok and report.conventions == {"max_pool_ties": "split"}
    assert [r.id for r in report.results if r.declared] == ["max_pool2d[gradient-golden-07]"]


split_declared = declaring(mistakes.max_pool_ties_split, max_pool_ties="split")
"""(imported by the isolated run above, in its child process)"""


def test_property_mode_draws_its_expected_values_under_the_declared_variant() -> None:
    report = conformance.run(declaring(mistakes.cross_entropy_summed,
                                       cross_entropy_reduction="sum"),
                             ops=["cross_entropy"], property=True, examples=15)
    assert report.ok, report.summary()
    assert not conformance.run(mistakes.cross_entropy_summed, ops=["cross_entropy"],
                               property=True, examples=15, cases=[]).ok


# ---------------------------------------------------------------- the module itself
def test_every_convention_names_a_real_op_a_claim_and_variants_the_reference_computes() -> None:
    from conformance.contract import OPS
    from reference.claims import REGISTRY

    ids = set(REGISTRY)
    for conv in C.CONVENTIONS.values():
        assert conv.op in OPS and conv.claim in ids
        assert not conv.spec.options, f"{conv.name}: the spec's variant is the reference as is"
        reference = conformance.backends.load_backend("numpy").obj
        for variant in conv.variants[1:]:
            for function, options in variant.options.items():
                # the adapter has the function, and it takes the option by name
                assert set(options) <= set(inspect.signature(
                    getattr(reference, function)).parameters), (conv.name, function)


def test_a_case_no_declared_variant_changes_is_left_as_it_is() -> None:
    from conformance.cases import golden_cases

    case = golden_cases(["max_pool2d"])[0]                  # no tie in any window
    reference = C.reference_for({"max_pool_ties": "split"})
    assert C.under(case, reference) == (case, {})
    assert C.under(case, C.reference_for()) == (case, {})    # nothing declared
    assert C.reference_for({"max_pool_ties": "first"}) is C.reference_for()  # the spec's


def test_the_readme_lists_the_conventions_as_the_module_does() -> None:
    readme = Path(__file__).resolve().parents[1].joinpath("README.md").read_text("utf-8")
    start, end = "<!-- conventions:start -->\n", "<!-- conventions:end -->"
    assert readme[readme.index(start) + len(start):readme.index(end)] == C.markdown()


def test_nnspec_conventions_lists_every_variant(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conventions"]) == 0
    out = capsys.readouterr().out
    for conv in C.CONVENTIONS.values():
        assert f"\n{conv.name} ({conv.op}): {conv.about}\n" in out
        assert f"  * {conv.spec.name:6} {conv.spec.text}" in out
        for variant in conv.variants[1:]:
            assert f"    {variant.name:6} {variant.text}" in out


def test_torch_itself_sends_a_tie_to_the_first_maximum_so_the_spec_needs_no_declaration() -> None:
    """The spec's variant is torch's: torch passes the tie case undeclared (the other tests'
    premise, checked on torch directly)."""
    x = torch.tensor([[[[1.0, 1.0], [0.0, 1.0]]]], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.max_pool2d(x, 2).sum().backward()
    assert x.grad is not None and x.grad.flatten().tolist() == [1.0, 0.0, 0.0, 0.0]


def test_a_reset_before_gru_passes_declared_and_is_told_the_declaration_undeclared() -> None:
    """The original GRU (Keras's reset_after=False), written step by step in torch: declared,
    every GRU case is checked under the reference's reset-before variant and passes; undeclared,
    every check fails and names the declaration."""
    report = conformance.run(declaring(mistakes.gru_reset_before, gru_reset="before"),
                             ops=["gru"])
    assert report.ok, report.summary()
    assert all(r.declared == (("gru_reset", "before"),) for r in report.results)
    undeclared = conformance.run(mistakes.gru_reset_before, ops=["gru"])
    assert len(undeclared.failures()) == len(report.results)
    assert all("declare it (--convention gru_reset=before" in (r.diagnosis or "")
               for r in undeclared.failures())


bad_declared = types.SimpleNamespace(relu=lambda x: np.maximum(x, 0.0),
                                     conventions={"max_pool_ties": "splt"})
"""(a backend whose own declaration has a typo, loaded by name below)"""


def test_the_command_line_refuses_a_backends_bad_declaration_before_any_output(
        capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    assert main(["run", "--backend", "spec_tests.test_conformance_conventions:bad_declared"],
                out=out) == 2
    assert out.getvalue() == ""                      # no header of a run that cannot start
    assert capsys.readouterr().err == (
        "nnspec: error: spec_tests.test_conformance_conventions:bad_declared.conventions: "
        "convention max_pool_ties has no variant 'splt'; its variants are first, last, split\n")
