"""Finding a backend by name and calling it through the contract.

Names: ``numpy`` (the reference itself), ``torch``, ``jax``, the real frameworks ``keras``,
``tinygrad`` and ``mygrad`` (optional extras), a name that an installed package registers in the
entry-point group ``nnspec.backends``, or ``package.module:attribute`` (an object
inside a module) or ``package.module`` (a module of contract functions; a top-level ``module``
too), or a file, ``./mynn.py`` or ``src/mynn.py:Backend`` (its folder goes first on sys.path).
The ``nnspec`` command and the pytest plugin import modules of the current directory, as
``python -m`` can (import_from_current_directory). A class found that way is instantiated without
arguments. Whatever fails while loading (a missing module, a SyntaxError, an exception raised by
the module's code or by the class's constructor) is a BackendError of one line: the backend's
own error, with its file and line. A third-party package registers itself with::

    [project.entry-points."nnspec.backends"]
    mybackend = "mypackage.nnspec_backend:backend"

``Bound`` wraps the object: it finds each op's forward, its ``<op>_backward`` or the generic
``vjp``, calls them as the contract says (conformance.contract) and turns what they return into
NumPy arrays, one per output or per differentiable input.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.machinery
import importlib.metadata
import importlib.util
import inspect
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from conformance.contract import OPS, Check, OpSpec, op_spec

__all__ = [
    "BUILTIN",
    "ENTRY_POINT_GROUP",
    "BackendError",
    "BadOutput",
    "Bound",
    "NotImplementedByBackend",
    "import_from_current_directory",
    "import_path",
    "load_backend",
    "local_folder",
    "resolve",
]

ENTRY_POINT_GROUP = "nnspec.backends"
BUILTIN: dict[str, str] = {
    "numpy": "conformance.adapters.numpy_backend",
    "torch": "conformance.adapters.torch_backend:TorchBackend",
    "jax": "conformance.adapters.jax_backend:JaxBackend",
    "onnxruntime": "conformance.adapters.onnxruntime_backend:OnnxRuntimeBackend",
    "onnx-reference": "conformance.adapters.onnx_reference_backend:OnnxReferenceBackend",
    # real frameworks, each an optional extra (nnspec[keras], nnspec[tinygrad], nnspec[mygrad])
    "keras": "conformance.adapters.keras_backend:KerasBackend",
    "tinygrad": "conformance.adapters.tinygrad_backend:TinygradBackend",
    "mygrad": "conformance.adapters.mygrad_backend:MyGradBackend",
}
"""The adapters shipped with nnspec, by name."""
FRAMEWORKS: dict[str, tuple[tuple[str, ...], str]] = {
    "torch": (("torch",), "pip install torch==2.13.0 (pinned: an unpinned torch pulls a "
              "multi-GB CUDA build; where that version is no CPU build, add --index-url "
              "https://download.pytorch.org/whl/cpu, as README.md's set-up says)"),
    "jax": (("jax", "jaxlib"), "pip install jax"),
    "keras": (("keras", "jax", "jaxlib"), "pip install keras==3.15.1 jax"),
    "tinygrad": (("tinygrad",), "pip install tinygrad==0.14.0 (and clang, for its CPU "
                 "device)"),
    "mygrad": (("mygrad",), "pip install mygrad==2.5.0"),
    "onnxruntime": (("onnx", "onnxruntime"), "pip install onnx onnxruntime"),
    "onnx-reference": (("onnx",), "pip install onnx"),
}
"""The packages each shipped adapter needs (not dependencies of nnspec: the light install) and
the command that installs them (the versions pyproject.toml's extras pin; torch's CPU build)."""

GradientStyle = Literal["backward", "vjp"]


class BackendError(Exception):
    """A backend that cannot be loaded, or a value it returns that the contract cannot read."""


class BadOutput(BackendError):
    """A value a backend returned that is not what the contract asks for (None, a list, ...)."""


class NotImplementedByBackend(Exception):
    """The backend does not implement this op or its gradient (reported as a skip)."""


@dataclass(frozen=True)
class Bound:
    """A backend object and the name it was loaded by, callable through the contract.

    ``loaded_from`` is what a named backend was imported from (``package.module:attribute``);
    ``target`` finds it for an object given directly too: a reproducer imports the backend from
    there, an isolated run loads it there again.
    """

    obj: Any
    name: str
    loaded_from: str | None = None

    @property
    def target(self) -> str | None:
        """Where the backend can be imported from again, or None (see ``import_path``)."""
        return self.loaded_from or import_path(self.obj)

    @property
    def version(self) -> str:
        """The backend's ``version`` or ``__version__`` string; for an object that has neither
        (an instance of a class, ``mybackend:Backend``), its module's ``__version__``; else
        "unknown"."""
        module = sys.modules.get(getattr(type(self.obj), "__module__", None) or "")
        owners = [self.obj] if inspect.ismodule(self.obj) else [self.obj, module]
        for owner in owners:
            for attr in ("version", "__version__"):
                value = getattr(owner, attr, None)
                if isinstance(value, str):
                    return value
        return "unknown"

    @property
    def declared(self) -> Any:
        """The conventions the backend declares (its ``conventions`` attribute, unchecked; see
        conformance.conventions), or None."""
        return getattr(self.obj, "conventions", None)

    # ------------------------------------------------------------ what is there
    def forward_fn(self, op: str) -> Callable[..., Any] | None:
        fn = getattr(self.obj, op, None)
        return fn if callable(fn) else None

    def backward_fn(self, op: str) -> Callable[..., Any] | None:
        fn = getattr(self.obj, op_spec(op).backward_name, None)
        return fn if callable(fn) else None

    @property
    def vjp_fn(self) -> Callable[..., Any] | None:
        fn = getattr(self.obj, "vjp", None)
        return fn if callable(fn) else None

    def gradient_style(self, op: str) -> GradientStyle | None:
        """How this backend provides the op's gradient: its own backward, the vjp, or not."""
        if self.backward_fn(op) is not None:
            return "backward"
        if self.vjp_fn is not None:
            return "vjp"
        return None

    def near_misses(self) -> dict[str, str]:
        """The backend's public functions named almost as a contract function it lacks (another
        case, underscores, a ``_forward``/``_fwd`` suffix, ``_grad``/``_bwd`` for
        ``_backward``, a typo), each → the contract's name: why its op would be skipped."""
        wanted = {name for op in OPS for name in (op, op_spec(op).backward_name)} | {"vjp"}
        missing = {_plain(w): w for w in wanted if not callable(getattr(self.obj, w, None))}
        found = {}
        for attr in dir(self.obj):
            if attr.startswith("_") or attr in wanted:
                continue
            try:
                value = getattr(self.obj, attr)
            except Exception:         # a property that fails: not a function anyway
                continue
            if not callable(value):
                continue
            close = difflib.get_close_matches(_plain(attr), missing, n=1, cutoff=0.85)
            if close:
                found[attr] = missing[close[0]]
        return found

    # ------------------------------------------------------------ calls
    def call_forward(self, op: str, inputs: Mapping[str, np.ndarray],
                     attrs: Mapping[str, Any]) -> tuple[np.ndarray, ...]:
        """The op's outputs, in the contract's order, as NumPy arrays."""
        spec = op_spec(op)
        fn = self.forward_fn(op)
        if fn is None:
            raise NotImplementedByBackend(f"{self.name} has no {op}")
        out = fn(*_arrays(spec, inputs), *_attrs(spec, attrs))
        return _outputs(out, what=f"{op} returned", names=[o.name for o in spec.outputs])

    def outputs(self, op: str, inputs: Mapping[str, np.ndarray],
                attrs: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """The op's outputs by the contract's output names."""
        names = [o.name for o in op_spec(op).outputs]
        return dict(zip(names, self.call_forward(op, inputs, attrs)))

    def values(self, check: Check, op: str, inputs: Mapping[str, np.ndarray],
               attrs: Mapping[str, Any], upstream: Mapping[str, np.ndarray]
               ) -> dict[str, np.ndarray]:
        """What a check compares: the outputs by name ("forward", ``upstream`` unused) or the
        gradients by input name ("gradient")."""
        if check == "forward":
            return self.outputs(op, inputs, attrs)
        return self.call_gradient(op, inputs, attrs, upstream)

    def call_gradient(self, op: str, inputs: Mapping[str, np.ndarray], attrs: Mapping[str, Any],
                      upstream: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Gradients of Σ upstream ∘ outputs for each differentiable input, by input name."""
        spec = op_spec(op)
        names = [a.name for a in spec.differentiable]
        ups = tuple(upstream[o.name] for o in spec.outputs)
        backward, vjp = self.backward_fn(op), self.vjp_fn
        if backward is not None:
            raw = backward(*ups, *_arrays(spec, inputs), *_attrs(spec, attrs))
            what = f"{spec.backward_name} returned"
        elif vjp is not None:
            raw = vjp(op, _arrays(spec, inputs), dict(attrs), ups)
            what = f"vjp({op!r}) returned"
        else:
            raise NotImplementedByBackend(
                f"{self.name} has neither {spec.backward_name} nor vjp")
        return dict(zip(names, _outputs(raw, what=what, names=names)))


def _arrays(spec: OpSpec, inputs: Mapping[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    return tuple(inputs[a.name] for a in spec.inputs)


def _attrs(spec: OpSpec, attrs: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(attrs[a.name] for a in spec.attrs)


def to_numpy(value: Any) -> np.ndarray:
    """An array-like (NumPy, torch, JAX, nested lists, a Python float) as a NumPy array."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach"):  # a torch tensor, maybe on a device, maybe requiring grad
        value = value.detach().cpu()
    return np.asarray(value)


def _is_array(value: Any) -> bool:
    """An array object (NumPy, torch, JAX, anything with ``__array__``) or a number."""
    return (isinstance(value, (np.ndarray, np.generic, int, float)) or hasattr(value, "detach")
            or hasattr(value, "__array__"))


def _array(value: Any, what: str, name: str = "") -> np.ndarray:
    """One returned value as a NumPy array; BadOutput for None, lists and non-numbers."""
    where = f" for {name}" if name else ""
    if value is None:
        raise BadOutput(f"{what} None{where}")
    if not _is_array(value):
        kind = type(value).__name__
        hint = " (return np.asarray(...) of it)" if isinstance(value, (list, tuple)) else ""
        raise BadOutput(f"{what} a {kind}{where}, not an array{hint}")
    arr = to_numpy(value)
    if arr.dtype.kind not in "biuf":
        raise BadOutput(f"{what} an array of {arr.dtype}{where}, not of numbers")
    return arr


def _outputs(value: Any, *, what: str, names: list[str]) -> tuple[np.ndarray, ...]:
    """What a backend returned as one array per expected name (a tuple, a dict or one array).

    Raises BadOutput for anything else: None, a list of numbers where an array is expected, a
    tuple of the wrong length, a dict without some name, strings or objects.
    """
    if isinstance(value, Mapping):
        missing = [n for n in names if n not in value]
        if missing:
            raise BadOutput(f"{what} a dict without {missing} (keys {sorted(value)})")
        return tuple(_array(value[n], what, n) for n in names)
    one_wrapped = len(names) == 1 and isinstance(value, (tuple, list)) and len(value) == 1 and (
        not isinstance(value[0], (int, float)))
    if isinstance(value, (tuple, list)) and (len(names) > 1 or one_wrapped):
        if len(value) != len(names):
            raise BadOutput(f"{what} {len(value)} values, expected {len(names)} "
                            f"({', '.join(names)})")
        return tuple(_array(v, what, n) for n, v in zip(names, value))
    if len(names) > 1:
        raise BadOutput(f"{what} a {type(value).__name__}, expected a tuple of {len(names)} "
                        f"arrays ({', '.join(names)})")
    return (_array(value, what),)


def _plain(name: str) -> str:
    """A function name without case, underscores or the usual suffixes (see near_misses)."""
    plain = name.lower().replace("_", "")
    for suffix, same in (("forward", ""), ("fwd", ""), ("grad", "backward"), ("bwd", "backward"),
                         ("backwards", "backward")):
        if plain.endswith(suffix):
            plain = plain.removesuffix(suffix) + same
            break
    return plain


# ---------------------------------------------------------------- loading
def _registered() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def _where(tb: Any) -> str:
    """`` (mynn.py, line 3)``: where in the user's code an error was raised, from its traceback
    (the deepest frame outside Python's import machinery, nnspec and installed packages), or
    "" if there is none."""
    frames = [f for f in traceback.extract_tb(tb) if not f.filename.startswith("<")]
    ours = [f for f in frames if not any(
        f.filename.startswith(p) for p in (sys.prefix, sys.base_prefix, _HERE))]
    if not ours:                          # nnspec's or an installed package's own line: not news
        return ""
    frame = ours[-1]
    path = Path(frame.filename)
    try:
        shown = str(path.relative_to(Path.cwd()))
    except ValueError:
        shown = str(path)
    return f" ({shown}, line {frame.lineno})"


def _one_line(exc: BaseException) -> str:
    """``ZeroDivisionError: division by zero (mynn.py, line 3)``; a SyntaxError by its own file
    and line."""
    if isinstance(exc, SyntaxError) and exc.filename:
        text = exc.msg or str(exc)
        try:
            shown = str(Path(exc.filename).relative_to(Path.cwd()))
        except ValueError:
            shown = exc.filename
        return f"{type(exc).__name__}: {text} ({shown}, line {exc.lineno})"
    lines = str(exc).strip().splitlines()
    first = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return first + _where(exc.__traceback__)


def _import(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name + ".").startswith(exc.name + "."):  # itself
            raise BackendError(f"cannot import {module_name!r}: {exc}") from None
        raise BackendError(f"cannot import {module_name!r}: {_one_line(exc)}") from None
    except (Exception, SystemExit) as exc:    # its code fails: a SyntaxError, an exception
        raise BackendError(f"cannot import {module_name!r}: {_one_line(exc)}") from None
    for part in filter(None, attr.split(".")):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            names = {n.lower(): n for n in dir(obj) if not n.startswith("_")}
            close = difflib.get_close_matches(part.lower(), names, n=1, cutoff=0.75)
            maybe = f" (did you mean {names[close[0]]!r}?)" if close else ""
            raise BackendError(f"{module_name!r} has no attribute {attr!r}{maybe}") from None
    return obj


def _from_path(name: str) -> str:
    """A backend given as a file (``./mynn.py``, ``src/mynn.py:Backend``) as the module name it
    is imported by (``mynn``, ``mynn:Backend``): its folder is put first on sys.path."""
    path_text, colon, attr = name.partition(":")
    path = Path(path_text)
    if path.suffix != ".py" or not path.is_file():
        raise BackendError(f"backend {name!r}: no Python file {path_text!r} (a file backend is a "
                           f"path to a .py file; a module is named without .py: "
                           f"{path.stem or path_text})")
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    module = sys.modules.get(path.stem)
    if module is not None and Path(getattr(module, "__file__", "") or "").resolve() != (
            path.resolve()):
        raise BackendError(f"backend {name!r}: a module {path.stem!r} is already imported from "
                           f"{module.__file__}; rename the file")
    return f"{path.stem}{colon}{attr}"


def import_from_current_directory() -> None:
    """Let a backend of the current directory import by its bare name (``mynn`` next to you), as
    with ``python -m``: the current directory goes last on sys.path unless it is there. The
    ``nnspec`` command and the pytest plugin both do this (a console script's sys.path holds
    its own folder, not the current one)."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)
        _ADDED.append(cwd)


_ADDED: list[str] = []
"""What import_from_current_directory put on sys.path."""
_HERE = str(Path(__file__).resolve().parent)


def local_folder(module_name: str) -> str | None:
    """The folder a module was imported from if a script run elsewhere could not import it (a
    module of the folder nnspec ran in, found only because of import_from_current_directory or
    the program's own folder, sys.path[0]); else None. A reproducer adds it to its sys.path."""
    top = module_name.partition(".")[0]
    module = sys.modules.get(top)
    origin = getattr(module, "__file__", None)
    if not origin:
        return None
    searched = [p for p in sys.path[1:] if p and p not in _ADDED]
    if importlib.machinery.PathFinder.find_spec(top, searched) is not None:
        return None
    folder = Path(origin).resolve().parent
    return str(folder.parent if Path(origin).name == "__init__.py" else folder)


def resolve(name: str) -> str:
    """What a backend name stands for: ``package.module[:attribute]`` to import."""
    if name in BUILTIN:
        return BUILTIN[name]
    if name in (registered := _registered()):
        return registered[name].value
    if name.partition(":")[0].endswith(".py") or "/" in name or os.sep in name:
        return _from_path(name)
    if ":" in name or "." in name or importlib.util.find_spec(name) is not None:
        return name                                   # (the last: a top-level module)
    known = sorted({*BUILTIN, *registered})
    raise BackendError(f"unknown backend {name!r}: use one of {', '.join(known)}, a module "
                       f"(package.module) or package.module:attribute; no module {name!r} "
                       f"can be imported from here")


def load_backend(backend: Any = "numpy", *, device: str | None = None) -> Bound:
    """The backend called ``backend`` (a name, see the module docstring) or the object itself.

    ``device`` is passed to the torch adapter (e.g. "cuda"); other backends refuse it.
    Raises BackendError with a message for the user when nothing can be loaded.
    """
    if isinstance(backend, Bound):
        return backend
    if not isinstance(backend, str):
        name = getattr(backend, "name", None) or getattr(backend, "__name__", None)
        return Bound(backend, name if isinstance(name, str) else type(backend).__name__)
    name = backend
    target = resolve(name)
    try:
        obj = _import(target)
    except BackendError as exc:
        packages, install = FRAMEWORKS.get(name, ((), ""))
        for package in packages:
            missing = f"No module named '{package}'"
            if missing in str(exc):
                raise BackendError(f"backend {name!r} needs {package}, which is not installed "
                                   f"here ({missing}): {install}") from None
        raise
    if inspect.isclass(obj):
        factory: Callable[..., Any] = obj
        if device is not None and "device" not in inspect.signature(factory).parameters:
            raise BackendError(f"backend {name!r} has no device option (got --device {device})")
        try:
            obj = factory(device=device) if device is not None else factory()
        except (Exception, SystemExit) as exc:
            called = f"{target}(device={device!r})" if device is not None else f"{target}()"
            raise BackendError(f"cannot load backend {name!r}: {called} raised "
                               f"{_one_line(exc)}") from None
    elif device is not None:
        raise BackendError(f"backend {name!r} has no device option (got --device {device})")
    return Bound(obj, name, target)


def import_path(obj: Any) -> str | None:
    """Where ``obj`` can be imported from again: a module's name, or ``module:attribute`` for an
    object that a loaded module holds under a name (its own module first); else None."""
    if inspect.ismodule(obj):
        return obj.__name__
    owner = getattr(obj, "__module__", None)
    modules = ([sys.modules[owner]] if isinstance(owner, str) and owner in sys.modules else [])
    for module in [*modules, *list(sys.modules.values())]:
        for attr, value in list(getattr(module, "__dict__", {}).items()):
            if value is obj and not attr.startswith("_"):
                return f"{module.__name__}:{attr}"
    return None
