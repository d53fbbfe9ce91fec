"""The fixtures loader (reference.fixtures): found from a checkout and from an installed wheel;
every slide fixture is well formed, plain data, and names a registered claim."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from reference.claims import REGISTRY
from reference.fixtures import (
    SLIDE_KEYS,
    fixtures_dir,
    load_arrays,
    load_json,
    load_text,
    slide_case,
    slide_cases,
)

pytestmark = pytest.mark.infrastructure
ROOT = Path(__file__).resolve().parents[1]


def test_every_slide_fixture_is_well_formed_and_names_a_registered_claim() -> None:
    cases = slide_cases()
    assert cases, "no slide fixtures found"
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names))
    for case in cases:
        assert SLIDE_KEYS <= set(case), case["name"]
        assert case["claim"] in REGISTRY, f"{case['name']}: unknown claim {case['claim']}"
        assert case["source"] and case["derivation"], case["name"]
    assert all(c["claim"] == "act.step" for c in slide_cases("act.step"))


def test_fixtures_are_plain_data_no_pickles() -> None:
    suffixes = {p.suffix for p in fixtures_dir().rglob("*") if p.is_file()}
    assert suffixes <= {".json", ".npz", ".txt", ".md"}, suffixes
    for npz in fixtures_dir().rglob("*.npz"):
        with np.load(npz, allow_pickle=False) as data:
            for k in data.files:
                assert data[k].dtype != object, f"{npz.name}:{k} holds objects"


def test_loader_reads_json_arrays_and_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "slides").mkdir()
    np.savez(tmp_path / "a.npz", x=np.arange(3.0))
    (tmp_path / "t.txt").write_text("héllo", encoding="utf-8")
    (tmp_path / "slides" / "bad.json").write_text(json.dumps({"name": "bad"}))
    (tmp_path / "slides" / "other.json").write_text(json.dumps({k: "x" for k in SLIDE_KEYS}))
    monkeypatch.setattr("reference.fixtures.fixtures_dir", lambda: tmp_path)
    assert load_arrays("a.npz")["x"].tolist() == [0.0, 1.0, 2.0]
    assert load_text("t.txt") == "héllo"
    assert load_json("slides/bad.json") == {"name": "bad"}
    with pytest.raises(ValueError, match="lacks the keys"):
        slide_case("bad")
    with pytest.raises(ValueError, match="calls itself 'x'"):
        slide_case("other")
    with pytest.raises(FileNotFoundError, match="no fixture 'missing.json'"):
        load_json("missing.json")


def test_fixtures_dir_raises_when_neither_location_exists(tmp_path: Path) -> None:
    pkg = tmp_path / "reference"
    pkg.mkdir()
    shutil.copy(ROOT / "reference" / "fixtures.py", pkg / "fixtures.py")
    code = "import fixtures; fixtures.fixtures_dir()"
    proc = subprocess.run([sys.executable, "-c", code], cwd=pkg, capture_output=True, text=True)
    assert proc.returncode != 0 and "nnspec fixtures not found" in proc.stderr


@pytest.mark.skipif(shutil.which("hatchling") is None and
                    not (Path(sys.executable).parent / "hatchling").exists(),
                    reason="hatchling (the build backend) is not installed")
def test_an_installed_wheel_carries_the_fixtures_and_finds_them(tmp_path: Path) -> None:
    hatchling = shutil.which("hatchling") or str(Path(sys.executable).parent / "hatchling")
    subprocess.run([hatchling, "build", "-t", "wheel", "-d", str(tmp_path / "dist")], cwd=ROOT,
                   check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("nnspec-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert "reference/_fixtures/slides/step_threshold.json" in names
        zf.extractall(tmp_path / "site")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    code = ("from reference.fixtures import fixtures_dir, slide_case; "
            "print(fixtures_dir()); print(slide_case('step_threshold')['claim'])")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    assert out == [str(tmp_path / "site" / "reference" / "_fixtures"), "act.step"]
