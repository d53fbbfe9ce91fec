"""The one loader of ``fixtures/``: slide examples and golden cases as plain data.

Fixtures are JSON (one case per file) and ``.npz`` archives (arrays, loaded with
``allow_pickle=False``), plus plain text (the char-RNN corpus). They live at the top of a checkout
in ``fixtures/``; an installed wheel carries the same folder as ``reference/_fixtures``. This module
finds whichever is there, so code and tests never build fixture paths themselves.

A slide fixture (``fixtures/slides/<name>.json``) has the keys

    name        unique, equal to the file name without ``.json``
    claim       the claim ID of reference.claims.REGISTRY it pins down
    source      the slide title it comes from, quoted
    about       one sentence on what it shows
    inputs      the slide's inputs (nested lists of small exactly representable numbers)
    params      settings such as stride and padding (may be empty)
    expected    the values computed by hand
    derivation  the hand arithmetic that gives ``expected``
    tolerance   0 unless the numbers are not exactly representable
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SLIDE_KEYS", "fixtures_dir", "load_arrays", "load_json", "load_text", "slide_case",
           "slide_cases"]

SLIDE_KEYS = frozenset(
    {"name", "claim", "source", "about", "inputs", "params", "expected", "derivation",
     "tolerance"}
)


@cache
def fixtures_dir() -> Path:
    """The fixtures folder: inside the installed package first, else the checkout's top level."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_fixtures", here.parent / "fixtures"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"nnspec fixtures not found next to {here} (looked for _fixtures/ and ../fixtures/)"
    )


def _path(relative: str) -> Path:
    path = fixtures_dir() / relative
    if not path.is_file():
        raise FileNotFoundError(f"no fixture {relative!r} in {fixtures_dir()}")
    return path


def load_json(relative: str) -> Any:
    """A JSON fixture by its path relative to fixtures/, e.g. ``"slides/sobel_patch.json"``."""
    with _path(relative).open(encoding="utf-8") as fh:
        return json.load(fh)


def load_arrays(relative: str) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` fixture (never unpickled)."""
    with np.load(_path(relative), allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def load_text(relative: str) -> str:
    """A text fixture, decoded as UTF-8."""
    return _path(relative).read_text(encoding="utf-8")


def slide_case(name: str) -> dict[str, Any]:
    """One slide fixture by name, checked for the keys every slide fixture has."""
    case = load_json(f"slides/{name}.json")
    missing = SLIDE_KEYS - set(case)
    if missing:
        raise ValueError(f"slide fixture {name!r} lacks the keys {sorted(missing)}")
    if case["name"] != name:
        raise ValueError(f"slide fixture {name!r} calls itself {case['name']!r}")
    return dict(case)


def slide_cases(claim: str | None = None) -> list[dict[str, Any]]:
    """Every slide fixture (sorted by name), optionally only those of one claim ID."""
    names = sorted(p.stem for p in (fixtures_dir() / "slides").glob("*.json"))
    cases = [slide_case(n) for n in names]
    return [c for c in cases if claim is None or c["claim"] == claim]
