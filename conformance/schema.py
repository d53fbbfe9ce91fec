"""The JSON report's schema (JSON Schema, draft 2020-12 subset) and a small validator for it.

``REPORT_SCHEMA`` is what ``nnspec run --json`` writes, version ``SCHEMA_VERSION`` of
conformance.report. ``validate`` checks a document against it with the keywords the schema uses
(type, const, enum, required, properties, additionalProperties, items, minimum) and returns the
problems found, so tests and users need no extra package.
"""

from __future__ import annotations

from typing import Any

from conformance.report import SCHEMA_NAME, SCHEMA_VERSION

__all__ = ["REPORT_SCHEMA", "validate"]

_NUMBER_OR_NULL = {"type": ["number", "null"]}
_STRING_OR_NULL = {"type": ["string", "null"]}


def _object(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties,
            "required": [k for k in properties if k not in optional],
            "additionalProperties": False}


_NUMBERS_OR_NULL = {"type": ["array", "null"], "items": {"type": "number"}}
_PROBE = _object({
    "array": {"type": "string"},
    "numeric": _NUMBERS_OR_NULL,        # the backend's forward by central differences
    "backend": _NUMBERS_OR_NULL,        # the backend's gradient along the same directions
    "spec": {"type": "array", "items": {"type": "number"}},
    "consistent": {"type": ["boolean", "null"]},
    "true": {"type": ["boolean", "null"]},
    "problem": _STRING_OR_NULL,
})
_CONSISTENCY = {**_object({
    "verdict": {"enum": ["forward", "backward", "forward-only", "both", "agree", "unknown"]},
    "text": {"type": "string"},
    "forward_ok": {"type": ["boolean", "null"]},
    "kink_elements": {"type": "integer", "minimum": 0},
    "probe_dtype": {"enum": ["float64", "float32"]},
    "probes": {"type": "array", "items": _PROBE},
}), "type": ["object", "null"]}
_ANATOMY = {"type": "object",             # structured detail beyond these fields may follow
            "properties": {"array": {"type": "string"},
                           "wrong": {"type": "integer", "minimum": 0},
                           "total": {"type": "integer", "minimum": 0},
                           "where": {"type": "array", "items": {"type": "string"}},
                           "how": {"type": "array", "items": {"type": "string"}},
                           "text": {"type": "string"}},
            "required": ["array", "wrong", "total", "where", "how", "text"]}
_MISTAKE = _object({"name": {"type": "string"}, "text": {"type": "string"},
                    "claims": {"type": "array", "items": {"type": "string"}},
                    "also": {"type": "array", "items": {"type": "string"}},
                    "unexplained": {"type": "array", "items": {"type": "string"}}})

_NARROWING = {**_object({"right": {"type": "array", "items": {"type": "string"}},
                          "wrong": {"type": "array", "items": {"type": "string"}},
                          "anatomy": {"type": "array", "items": _ANATOMY},
                          "text": {"type": "string"}}), "type": ["object", "null"]}

_RESULT = _object({
    "id": {"type": "string"},
    "op": {"type": "string"},
    "case": {"type": "string"},
    "source": {"enum": ["golden", "slide", "property"]},
    "check": {"enum": ["forward", "gradient"]},
    "status": {"enum": ["pass", "fail", "skip", "timeout", "xfail", "xpass"]},
    "reason": {"type": "string"},
    "max_abs_error": _NUMBER_OR_NULL,
    "max_rel_error": _NUMBER_OR_NULL,
    "error_ratio": _NUMBER_OR_NULL,
    "worst_array": _STRING_OR_NULL,
    "worst_index": {"type": ["array", "null"], "items": {"type": "integer", "minimum": 0}},
    "tolerance": {"type": ["object", "null"],
                  "properties": {"rtol": {"type": "number", "minimum": 0},
                                 "atol": {"type": "number", "minimum": 0}},
                  "required": ["rtol", "atol"], "additionalProperties": False},
    "terms": {"type": "integer", "minimum": 1},
    "depth": {"type": "integer", "minimum": 1},
    "gradient_style": {"enum": ["backward", "vjp", None]},
    "geometry": {"type": "string"},
    "claims": {"type": "array", "items": {"type": "string"}},
    "seed": {"type": ["integer", "null"]},
    "seconds": {"type": "number", "minimum": 0},
    "diagnosis": _STRING_OR_NULL,
    "warnings": {"type": "array", "items": {"type": "string"}},
    "mistakes": {"type": "array", "items": _MISTAKE},
    "consistency": _CONSISTENCY,
    "anatomy": {"type": "array", "items": _ANATOMY},
    "narrowing": _NARROWING,
    "reproducer": _STRING_OR_NULL,
    "examples": {"type": "integer", "minimum": 1},
    "skipped_examples": {"type": "integer", "minimum": 0},
    "declared": {"type": "object", "properties": {}, "additionalProperties": {"type": "string"}},
    "expected_failure": _STRING_OR_NULL,
})

REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": f"{SCHEMA_NAME}, version {SCHEMA_VERSION}",
    **_object({
        "schema": {"const": SCHEMA_NAME},
        "schema_version": {"const": SCHEMA_VERSION},
        "spec_version": {"type": "string"},
        "nnspec_version": {"type": "string"},
        "backend": _object({"name": {"type": "string"}, "version": {"type": "string"},
                            "device": _STRING_OR_NULL}),
        "dtype": {"enum": ["float64", "float32"]},
        "seeds": {"type": "object", "properties": {},
                  "additionalProperties": {"type": ["integer", "null"]}},
        "ops": {"type": "array", "items": {"type": "string"}},
        "required": {"type": "array", "items": {"type": "string"}},
        "started": {"type": "string"},
        "seconds": {"type": "number", "minimum": 0},
        "platform": _object({"python": {"type": "string"}, "numpy": {"type": "string"}}),
        "summary": _object({k: {"type": "integer", "minimum": 0}
                            for k in ("passed", "failed", "timed_out", "skipped", "xfailed",
                                      "xpassed", "total")}),
        "interrupted": {"type": "boolean"},
        "conventions": {"type": "object", "properties": {},
                        "additionalProperties": {"type": "string"}},
        "xfail": {"type": ["object", "null"],
                  "properties": {"file": {"type": "string"},
                                 "stale": {"type": "array", "items": {"type": "string"}}},
                  "required": ["file", "stale"], "additionalProperties": False},
        "results": {"type": "array", "items": _RESULT},
    }),
}

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "integer": (int,),
    "number": (int, float), "boolean": (bool,), "null": (type(None),),
}


def _is(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[kind])


def validate(doc: Any, schema: dict[str, Any] | None = None, path: str = "$") -> list[str]:
    """The ways ``doc`` breaks ``schema`` (REPORT_SCHEMA by default), one line each; [] if none."""
    schema = REPORT_SCHEMA if schema is None else schema
    problems: list[str] = []
    if "const" in schema and doc != schema["const"]:
        problems.append(f"{path}: {doc!r} is not {schema['const']!r}")
    if "enum" in schema and doc not in schema["enum"]:
        problems.append(f"{path}: {doc!r} is not one of {schema['enum']}")
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is(doc, k) for k in kinds):
            return [*problems, f"{path}: {type(doc).__name__} is not {' or '.join(kinds)}"]
    if "minimum" in schema and _is(doc, "number") and doc < schema["minimum"]:
        problems.append(f"{path}: {doc} < {schema['minimum']}")
    if isinstance(doc, dict):
        props = schema.get("properties", {})
        problems += [f"{path}: lacks {k!r}" for k in schema.get("required", ()) if k not in doc]
        extra = schema.get("additionalProperties", True)
        for key, value in doc.items():
            if key in props:
                problems += validate(value, props[key], f"{path}.{key}")
            elif extra is False:
                problems.append(f"{path}: unexpected key {key!r}")
            elif isinstance(extra, dict):
                problems += validate(value, extra, f"{path}.{key}")
    if isinstance(doc, list) and "items" in schema:
        for i, item in enumerate(doc):
            problems += validate(item, schema["items"], f"{path}[{i}]")
    return problems
