"""docs/scoreboard-notes.md as the adapters' tests read it: one section per adapter (``## name``),
its findings (``### title``) and its reproducers (the ```python blocks), which each test runs."""

from __future__ import annotations

import re
from pathlib import Path

NOTES = Path(__file__).resolve().parents[2] / "docs" / "scoreboard-notes.md"


def section(adapter: str) -> str:
    """The text of the section ``## adapter``, up to the next ``## `` heading."""
    text = NOTES.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(adapter)}\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    if match is None:
        raise LookupError(f"{NOTES} has no section '## {adapter}'")
    return match.group(1)


def findings(adapter: str) -> list[str]:
    """The titles of the section's findings (its ``### `` headings)."""
    return re.findall(r"^### (.+)$", section(adapter), flags=re.M)


def reproducers(adapter: str) -> list[str]:
    """The Python code blocks of the section, in order."""
    return re.findall(r"^```python\n(.*?)^```$", section(adapter), flags=re.S | re.M)
