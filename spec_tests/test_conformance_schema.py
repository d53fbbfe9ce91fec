"""Tests of conformance.schema: the JSON report's versioned schema and its validator."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from conformance.report import SCHEMA_NAME, SCHEMA_VERSION
from conformance.runner import run
from conformance.schema import REPORT_SCHEMA, validate

pytestmark = pytest.mark.infrastructure


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    report = run("torch", ops=["relu", "max_pool2d", "cross_entropy"], dtype="float32")
    return json.loads(json.dumps(report.to_dict()))             # through JSON, as written


def test_a_real_report_follows_the_schema(doc: dict[str, Any]) -> None:
    assert validate(doc) == []
    assert doc["schema"] == SCHEMA_NAME and doc["schema_version"] == SCHEMA_VERSION
    assert REPORT_SCHEMA["title"] == f"{SCHEMA_NAME}, version {SCHEMA_VERSION}"
    assert {r["gradient_style"] for r in doc["results"]} == {None, "vjp"}


def test_the_schema_names_every_key_the_report_writes(doc: dict[str, Any]) -> None:
    assert set(doc) == set(REPORT_SCHEMA["properties"])
    assert set(doc["results"][0]) == set(REPORT_SCHEMA["properties"]["results"]["items"]
                                         ["properties"])


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda d: d.pop("dtype"), "$: lacks 'dtype'"),
    (lambda d: d.update(dtype="float16"), "$.dtype: 'float16' is not one of"),
    (lambda d: d.update(schema_version=0), f"$.schema_version: 0 is not {SCHEMA_VERSION}"),
    (lambda d: d.update(extra=1), "$: unexpected key 'extra'"),
    (lambda d: d["summary"].update(passed=-1), "$.summary.passed: -1 < 0"),
    (lambda d: d["summary"].update(passed=True), "$.summary.passed: bool is not integer"),
    (lambda d: d["seeds"].update(property="x"), "$.seeds.property: str is not integer or null"),
    (lambda d: d["results"][0].update(status="ok"), "$.results[0].status: 'ok' is not one of"),
    (lambda d: d["results"][0].update(worst_index=[1.5]),
     "$.results[0].worst_index[0]: float is not integer"),
])
def test_the_validator_finds_what_breaks_the_schema(doc: dict[str, Any], edit: Any,
                                                    problem: str) -> None:
    broken = copy.deepcopy(doc)
    edit(broken)
    problems = validate(broken)
    assert any(p.startswith(problem) for p in problems), problems
