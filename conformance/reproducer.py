"""Reproducers: a failing case as a self-contained Python script that calls the backend directly.

The script imports the backend the way a user would (``import mypkg.ops as backend``, or the
adapter class for the built-in names), builds the case's arrays, calls the one function that
failed (``backend.conv2d_backward(dy, x, w, b, stride, padding)`` or ``backend.vjp(...)``) and
prints, array by array, how far it is from nnspec's expected values, which the script carries
too. A backend that only imports from the folder nnspec ran in (``mynn.py`` there; see
conformance.backends.local_folder) is imported with the current folder on sys.path: the script
runs from where nnspec ran, and its comment says how to run it from elsewhere (PYTHONPATH). It
needs NumPy and the backend, not nnspec (unless the backend is one of nnspec's adapters).

Arrays are written inline (exact: every value is printed with its full repr) when the case has
at most ``INLINE_LIMIT`` values; a larger case, when the script is written to a folder, keeps its
arrays in a ``.npz`` next to it (loaded without pickle).
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from conformance.backends import BackendError, _import, local_folder, resolve
from conformance.cases import Case
from conformance.contract import op_spec
from conformance.report import Check
from reference.tolerance import Tolerance

__all__ = ["INLINE_LIMIT", "backend_import", "script", "write"]

INLINE_LIMIT = 400
"""Cases with more values than this keep their arrays in a .npz next to a written script."""


def backend_import(target: str | None) -> str:
    """Python lines that bind ``backend`` to the backend imported from ``target``
    (``package.module[:attribute]`` or a name), or a placeholder to fill in."""
    if target is None:
        return ("backend = None  # nnspec cannot tell where this backend is imported from: "
                "set it here")
    try:
        path = resolve(target)
        obj = _import(path)
    except BackendError:
        return f"backend = None  # could not import {target!r}: set the backend here"
    module, _, attr = path.partition(":")
    if not attr:
        line = f"import {module} as backend"
    elif inspect.isclass(obj):
        line = f"from {module} import {attr}\n\nbackend = {attr}()"
    else:
        line = f"from {module} import {attr} as backend"
    folder = local_folder(module)
    if folder is None:
        return line
    top = module.partition(".")[0]
    return (f"import os\nimport sys\n\n# {top} is a module of the folder nnspec ran in ({folder}): "
            f"run this script from there,\n# or from anywhere with PYTHONPATH={folder}\n"
            f"sys.path.insert(0, os.getcwd())\n{line}")


def _literal(value: np.ndarray, dtype: str) -> str:
    text = repr(np.asarray(value).tolist())
    body = textwrap.fill(text, width=92, subsequent_indent="    ", break_long_words=False,
                         break_on_hyphens=False)
    return f"np.array({body}, dtype=np.{dtype})"


def _arrays(case: Case, check: Check, dtype: str) -> dict[str, tuple[np.ndarray, str]]:
    """Every array the script needs: name → (values, dtype name)."""
    spec = op_spec(case.op)
    arrays = {a.name: (np.asarray(case.inputs[a.name]), "int64" if a.kind == "index" else dtype)
              for a in spec.inputs}
    if check == "gradient":
        arrays |= {f"d{o.name}": (np.asarray(case.upstream[o.name]), dtype)
                   for o in spec.outputs}
    return arrays


def _call(case: Case, check: Check, style: str | None) -> tuple[str, list[str]]:
    """The call expression and the names of what it returns, in order."""
    spec = op_spec(case.op)
    inputs = [a.name for a in spec.inputs]
    attrs = [a.name for a in spec.attrs]
    if check == "forward":
        return (f"backend.{case.op}({', '.join(inputs + attrs)})",
                [o.name for o in spec.outputs])
    grads = [f"d{a.name}" for a in spec.differentiable]
    ups = [f"d{o.name}" for o in spec.outputs]
    if style == "vjp":
        settings = "{" + ", ".join(f'"{a}": {a}' for a in attrs) + "}"
        return (f"backend.vjp({case.op!r}, ({', '.join(inputs)},), {settings}, "
                f"({', '.join(ups)},))", grads)
    return f"backend.{spec.backward_name}({', '.join(ups + inputs + attrs)})", grads


def script(case: Case, check: Check, *, target: str | None, style: str | None, dtype: str,
           tol: Tolerance, note: str = "", npz: str | None = None) -> str:
    """The reproducer of one failing check of ``case`` (which carries its expected values).

    ``npz``: the file name (next to the script) holding the arrays instead of inline literals.
    """
    expected = case.expected if check == "forward" else case.expected_grads
    call, names = _call(case, check, style)
    arrays = _arrays(case, check, dtype)
    title = f"nnspec reproducer: {case.op} {check}{f' ({note})' if note else ''}."
    about = ("Calls the backend directly on the failing case and prints how far each result is "
             f"from nnspec's expected values (allowed: {tol}, that is |got - expected| <= "
             f"atol·max(1, max|expected|) + rtol·|expected|), then PASS or FAIL; the exit "
             f"status is 1 while it fails (for CI or git bisect run).")
    lines = [*textwrap.wrap('"""' + title, width=96), "",
             *textwrap.wrap(about + '"""', width=96), "import numpy as np", ""]
    if npz:
        lines[-1:-1] = ["from pathlib import Path"]
    lines += [backend_import(target), ""]
    if npz:
        lines.append(f'arrays = np.load(Path(__file__).with_name("{npz}"))')
        lines += [f'{k} = arrays["{k}"]' for k in arrays]
        lines.append("expected = {" + ", ".join(f'"{n}": arrays["expected/{n}"]'
                                                 for n in names) + "}")
    else:
        lines += [f"{k} = {_literal(v, dt)}" for k, (v, dt) in arrays.items()]
        lines.append("expected = {")
        for n in names:
            want = np.asarray((expected or {})[n[1:] if check == "gradient" else n])
            lines.append(f'    "{n}": {_literal(want, "float64")},')
        lines.append("}")
    lines += [f"{a.name} = {case.attrs[a.name]!r}" for a in op_spec(case.op).attrs]
    lines += [f"rtol, atol = {tol.rtol!r}, {tol.atol!r}"]
    lines += ["", f"got = {call}",
              "if isinstance(got, dict):",
              "    got = [got[name] for name in expected]",
              "elif not isinstance(got, (tuple, list)) or len(got) != len(expected):",
              "    got = [got]",
              "failing = []",
              "for (name, want), value in zip(expected.items(), got):",
              "    value = np.asarray(value, dtype=np.float64)",
              "    if value.shape != want.shape:",
              '        print(f"{name}: shape {value.shape}, expected {want.shape}")',
              "        failing.append(name)",
              "        continue",
              "    error = np.abs(value - want)",
              "    allowed = atol * max(1.0, np.abs(want).max(initial=0.0)) + rtol * np.abs(want)",
              "    worst = np.unravel_index(np.argmax(error), error.shape) if error.size else ()",
              '    print(f"{name}: max abs error {error.max(initial=0.0):.3g} at index "',
              '          f"{tuple(int(i) for i in worst)}")',
              "    if not np.all(error <= allowed):             # (nan is never allowed)",
              "        failing.append(name)",
              'print(f"FAIL: {\', \'.join(failing)}" if failing else "PASS")',
              "raise SystemExit(1 if failing else 0)"]
    return "\n".join(lines) + "\n"


def write(folder: str | Path, case: Case, check: Check, *, target: str | None,
          style: str | None, dtype: str, tol: Tolerance, note: str = "") -> tuple[Path, str]:
    """Write the reproducer as ``<folder>/<op>_<check>.py`` (its arrays in a ``.npz`` next to it
    when there are more than INLINE_LIMIT values); return the path and the script."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{case.op}_{check}.py"
    arrays = _arrays(case, check, dtype)
    npz = None
    if sum(v.size for v, _ in arrays.values()) > INLINE_LIMIT:
        npz = path.with_suffix(".npz").name
        expected: Mapping[str, Any] = (case.expected if check == "forward" else
                                       case.expected_grads) or {}
        prefix = "d" if check == "gradient" else ""
        stored = {k: v.astype(dt) for k, (v, dt) in arrays.items()} | {
            f"expected/{prefix}{k}": np.asarray(v, np.float64) for k, v in expected.items()}
        np.savez(folder / npz, **stored)   # type: ignore[arg-type]
    text = script(case, check, target=target, style=style, dtype=dtype, tol=tol, note=note,
                  npz=npz)
    path.write_text(text, encoding="utf-8")
    return path, text
