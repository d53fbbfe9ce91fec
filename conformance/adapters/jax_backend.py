"""The ``jax`` backend: JAX on the CPU behind the contract, gradients by ``jax.vjp``.

Ops use jax.lax and jax.numpy as a JAX user would: lax.conv_general_dilated for convolutions,
lax.reduce_window for average and L2 pooling, lax.scan over time for the recurrent cells (JAX has
no LSTM of its own; the cells follow PyTorch's equations, gate orders and weight layout).

Two details a JAX port must get right to pass:

* float64: JAX computes in float32 unless x64 is enabled. The adapter enables it
  (``jax_enable_x64``, a process-wide switch) the first time float64 arrays arrive; float32
  arrays stay float32 after that.
* max-pool ties: the gradient of ``jnp.max`` (and of a max ``reduce_window``) is shared among
  tied elements, while the contract sends it whole to the first maximum in row-major order, so
  max pooling gathers each window and picks it with ``argmax`` (the first maximum).

Making programs is nearly all of a run's time (compiling them in the first run; tracing and
lowering them, which JAX's cache cannot skip, in later ones): one XLA program per op, shape and
dtype, computing the op's outputs and its pullback together (116 of them per dtype), which the
forward check and the gradient check of a case share. The adapter compiles each once per process
and keeps them between runs in JAX's persistent compilation cache, in the folder ``cache_dir`` names
(``~/.cache/nnspec/jax`` by default; ``NNSPEC_JAX_CACHE`` chooses another, or ``off``), unless
JAX is already given a cache folder (``JAX_COMPILATION_CACHE_DIR``), which it then uses.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from conformance.contract import OPS, op_spec

__all__ = ["CACHE_ENV", "JaxBackend", "cache_dir"]

Array = jax.Array
_HIGHEST = lax.Precision.HIGHEST


def _linear(x: Array, w: Array, b: Array) -> Array:
    return jnp.matmul(x, w.T, precision=_HIGHEST) + b          # x wᵀ + b


def _cross_entropy(logits: Array, targets: Array) -> Array:
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, targets[:, None], axis=1))


def _max_margin(s: Array, s_c: Array, delta: float) -> Array:
    # relu, not maximum(0, ·): maximum splits the gradient at the kink, the contract gives it 0
    return jax.nn.relu(delta + s_c - s)


def _conv(x: Array, w: Array, b: Array, stride: Any, padding: Any, *,
          layout: tuple[str, str, str]) -> Array:
    strides = tuple(np.atleast_1d(stride).tolist())
    pads = [(p, p) for p in np.atleast_1d(padding).tolist()]
    y = lax.conv_general_dilated(x, w, strides, pads, dimension_numbers=layout,
                                 precision=_HIGHEST)
    return y + b.reshape((1, -1) + (1,) * (x.ndim - 2))


def _window_sum(x: Array, kernel_size: tuple[int, int], stride: tuple[int, int]) -> Array:
    return lax.reduce_window(x, np.zeros((), x.dtype), lax.add, (1, 1, *kernel_size),
                             (1, 1, *stride), "VALID")


def _windows(x: Array, kernel_size: tuple[int, int], stride: tuple[int, int]) -> Array:
    """Every window as [N, C, OH, OW, FH·FW] (a gather, so gradients scatter back exactly)."""
    (fh, fw), (sh, sw) = kernel_size, stride
    oh, ow = (x.shape[2] - fh) // sh + 1, (x.shape[3] - fw) // sw + 1
    rows = (np.arange(oh) * sh)[:, None] + np.arange(fh)[None, :]          # [OH, FH]
    cols = (np.arange(ow) * sw)[:, None] + np.arange(fw)[None, :]          # [OW, FW]
    win = x[:, :, rows[:, None, :, None], cols[None, :, None, :]]          # [N, C, OH, OW, FH, FW]
    return win.reshape(*win.shape[:4], fh * fw)


def _max_pool2d(x: Array, kernel_size: tuple[int, int], stride: tuple[int, int]) -> Array:
    win = _windows(x, kernel_size, stride)
    first = jnp.argmax(win, axis=-1)[..., None]                 # the first maximum
    return jnp.take_along_axis(win, first, axis=-1)[..., 0]


def _avg_pool2d(x: Array, kernel_size: tuple[int, int], stride: tuple[int, int]) -> Array:
    return _window_sum(x, kernel_size, stride) / (kernel_size[0] * kernel_size[1])


def _lp_pool2d(x: Array, kernel_size: tuple[int, int], stride: tuple[int, int]) -> Array:
    return jnp.sqrt(_window_sum(x * x, kernel_size, stride))


def _gates(x_t: Array, h: Array, w_ih: Array, w_hh: Array, b_ih: Array, b_hh: Array
           ) -> tuple[Array, Array]:
    return (jnp.matmul(x_t, w_ih.T, precision=_HIGHEST) + b_ih,
            jnp.matmul(h, w_hh.T, precision=_HIGHEST) + b_hh)


def _rnn(x: Array, h0: Array, w_ih: Array, w_hh: Array, b_ih: Array, b_hh: Array
         ) -> tuple[Array, Array]:
    def cell(h: Array, x_t: Array) -> tuple[Array, Array]:
        gi, gh = _gates(x_t, h, w_ih, w_hh, b_ih, b_hh)
        h = jnp.tanh(gi + gh)                                   # s_t = tanh(U x_t + W s_{t−1} + b)
        return h, h
    h_n, out = lax.scan(cell, h0, x)
    return out, h_n


def _lstm(x: Array, h0: Array, c0: Array, w_ih: Array, w_hh: Array, b_ih: Array, b_hh: Array
          ) -> tuple[Array, Array, Array]:
    def cell(carry: tuple[Array, Array], x_t: Array) -> tuple[tuple[Array, Array], Array]:
        h, c = carry
        gi, gh = _gates(x_t, h, w_ih, w_hh, b_ih, b_hh)
        i, f, g, o = jnp.split(gi + gh, 4, axis=-1)             # PyTorch's order i, f, g, o
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), h
    (h_n, c_n), out = lax.scan(cell, (h0, c0), x)
    return out, h_n, c_n


def _gru(x: Array, h0: Array, w_ih: Array, w_hh: Array, b_ih: Array, b_hh: Array
         ) -> tuple[Array, Array]:
    def cell(h: Array, x_t: Array) -> tuple[Array, Array]:
        gi, gh = _gates(x_t, h, w_ih, w_hh, b_ih, b_hh)
        i_r, i_z, i_n = jnp.split(gi, 3, axis=-1)               # PyTorch's order r, z, n
        h_r, h_z, h_n = jnp.split(gh, 3, axis=-1)
        r = jax.nn.sigmoid(i_r + h_r)
        z = jax.nn.sigmoid(i_z + h_z)
        n = jnp.tanh(i_n + r * h_n)                             # "reset after"
        h = (1.0 - z) * n + z * h
        return h, h
    h_n, out = lax.scan(cell, h0, x)
    return out, h_n


OPS_JAX: dict[str, Callable[..., Any]] = {
    "step": lambda x: (x >= 0).astype(x.dtype),
    "sigmoid": jax.nn.sigmoid,
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
    "linear": _linear,
    "softmax": partial(jax.nn.softmax, axis=-1),
    "cross_entropy": _cross_entropy,
    "max_margin": _max_margin,
    "conv2d": partial(_conv, layout=("NCHW", "OIHW", "NCHW")),
    "conv1d": partial(_conv, layout=("NCH", "OIH", "NCH")),
    "max_pool2d": _max_pool2d,
    "avg_pool2d": _avg_pool2d,
    "lp_pool2d": _lp_pool2d,
    "rnn": _rnn,
    "lstm": _lstm,
    "gru": _gru,
    "embedding": lambda ids, E: jnp.take(E, ids, axis=0),
}


CACHE_ENV = "NNSPEC_JAX_CACHE"
"""The environment variable naming the folder of compiled programs (empty or ``off``: none)."""


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The folder where the jax backend keeps compiled programs between runs, or None (off).

    ``NNSPEC_JAX_CACHE`` when it is set (empty or ``off``: no cache); else the user's cache
    folder: ``$XDG_CACHE_HOME/nnspec/jax``, by default ``~/.cache/nnspec/jax``
    (``~/Library/Caches/nnspec/jax`` on macOS, ``%LOCALAPPDATA%\\nnspec\\jax`` on Windows).
    JAX runs what it finds there: it must be a folder only you can write to.
    """
    setting = environ.get(CACHE_ENV)
    if setting is not None:
        off = setting.strip().lower() in ("", "off")
        return None if off else Path(setting).expanduser()
    if environ.get("XDG_CACHE_HOME", "").startswith("/"):
        base = Path(environ["XDG_CACHE_HOME"])
    elif sys.platform == "win32" and environ.get("LOCALAPPDATA"):
        base = Path(environ["LOCALAPPDATA"])
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path.home() / ".cache"
    return base / "nnspec" / "jax"


def _use_compilation_cache() -> None:
    """Point JAX's persistent compilation cache at ``cache_dir()``, unless JAX has a folder of
    its own (JAX_COMPILATION_CACHE_DIR) or the cache is off. A process-wide JAX setting."""
    config: Any = jax.config
    folder = cache_dir()
    if folder is None or config.jax_compilation_cache_dir:
        return
    config.update("jax_compilation_cache_dir", str(folder))
    # every program here compiles in milliseconds: keep them all (JAX's default is ≥ 1 s)
    config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


def _device_array(value: Any, device: Any, dtype: Any = None) -> Array:
    """``value`` on ``device`` (in ``dtype`` if given). device_put only copies: jnp.asarray
    would compile a conversion program for every new shape."""
    arr = np.asarray(value, dtype=dtype)
    config: Any = jax.config
    if arr.dtype == np.float64 and not config.read("jax_enable_x64"):
        config.update("jax_enable_x64", True)                  # float64 runs compute in float64
    return jax.device_put(arr, device)


class JaxBackend:
    """JAX on the CPU, one method per contract op plus ``vjp``.

    ``ops`` maps each op to a JAX-traceable function of the contract's arrays and attributes; a
    library built on JAX (conformance.adapters.keras_backend) subclasses with its own table.

    Each op has one program per shape and dtype, its forward and its pullback together: the
    forward check of a case runs it (with zero cotangents) and keeps the outputs, the gradient
    check runs the very same program and keeps the gradients. Tracing and lowering a program is
    most of a run's time, even with the compiled programs cached, so one program instead of a
    forward and a pullback per case is the saving. The attributes that set shapes (strides,
    padding, windows: "pair" and "int") are fixed in the program; the margin Δ ("float") is an
    argument, so the cases that differ in it share one.
    """

    name = "jax"
    version = jax.__version__
    ops: Mapping[str, Callable[..., Any]] = OPS_JAX

    def __init__(self) -> None:
        self.device = jax.devices("cpu")[0]
        self._programs: dict[tuple[str, str, tuple[Any, ...]], Callable[..., Any]] = {}
        _use_compilation_cache()
        for op in self.ops:
            setattr(self, op, partial(self._forward, op))

    @staticmethod
    def _split(op: str, settings: tuple[Any, ...]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """The attributes fixed in the program (hashable: lists as tuples) and the traced ones
        (the "float" attributes), each in the contract's order."""
        kinds = [a.kind for a in op_spec(op).attrs]
        fixed = tuple(tuple(v) if isinstance(v, list) else v
                      for v, kind in zip(settings, kinds) if kind != "float")
        return fixed, tuple(v for v, kind in zip(settings, kinds) if kind == "float")

    @staticmethod
    def _merge(op: str, fixed: tuple[Any, ...], traced: tuple[Any, ...]) -> list[Any]:
        """The attributes in the contract's order again (the inverse of _split)."""
        fixed_left, traced_left = iter(fixed), iter(traced)
        return [next(traced_left if a.kind == "float" else fixed_left)
                for a in op_spec(op).attrs]

    def _program(self, op: str, fixed: tuple[Any, ...], kind: str = "both"
                 ) -> Callable[..., Any]:
        """The jitted forward and pullback of ``op`` with these fixed attributes (``kind``
        "both"), or its forward alone ("forward"), made once: JAX traces and compiles it once
        per shape and dtype, and every case of the same geometry, forward and gradient check
        alike, reuses it."""
        key = (kind, op, fixed)
        if key not in self._programs:
            body = self._forward_and_pullback if kind == "both" else self._apply
            self._programs[key] = jax.jit(partial(body, op, fixed))
        return self._programs[key]

    def _apply(self, op: str, fixed: tuple[Any, ...], arrays: list[Array],
               traced: tuple[Array, ...]) -> Any:
        return self.ops[op](*arrays, *self._merge(op, fixed, traced))

    def _forward_and_pullback(self, op: str, fixed: tuple[Any, ...], arrays: list[Array],
                              traced: tuple[Array, ...], cots: tuple[Array, ...]) -> Any:
        """The outputs of ``op`` at ``arrays`` and its vjp with the cotangents ``cots`` of
        those outputs, for the differentiable inputs."""
        where = [i for i, a in enumerate(op_spec(op).inputs) if a.differentiable]

        def f(*primals: Array) -> Any:
            args = list(arrays)
            for i, p in zip(where, primals):
                args[i] = p
            return self._apply(op, fixed, args, traced)

        out, pull = jax.vjp(f, *(arrays[i] for i in where))
        return out, pull(cots if isinstance(out, tuple) else cots[0])

    def _split_arrays(self, op: str, args: tuple[Any, ...]
                      ) -> tuple[list[Array], tuple[Any, ...], tuple[Any, ...]]:
        """The arrays of a call on the device, then its fixed and traced attributes."""
        n = len(OPS[op].inputs)
        fixed, traced = self._split(op, args[n:])
        return [_device_array(a, self.device) for a in args[:n]], fixed, traced

    def _forward(self, op: str, *args: Any) -> tuple[np.ndarray, ...] | np.ndarray:
        """The outputs, from the case's program with zero cotangents (the gradient check of
        the case runs the same program), each zero in its output's shape and dtype, known by
        tracing the forward alone (jax.eval_shape: nothing lowered). When JAX cannot build the
        pullback (an op calling NumPy through jax.pure_callback, say), the forward alone gives
        the outputs: the forward check judges the forward, whatever its gradient."""
        with jax.default_device(self.device):
            arrays, fixed, traced = self._split_arrays(op, args)
            forward = self._program(op, fixed, "forward")
            shaped = jax.eval_shape(forward, arrays, traced)
            outputs = shaped if isinstance(shaped, tuple) else (shaped,)
            zeros = tuple(jax.device_put(np.zeros(o.shape, o.dtype), self.device)
                          for o in outputs)
            try:
                out, _ = self._program(op, fixed)(arrays, traced, zeros)
            except Exception:
                out = forward(arrays, traced)
        if isinstance(out, tuple):
            return tuple(np.asarray(o) for o in out)
        return np.asarray(out)

    def vjp(self, op: str, inputs: tuple[np.ndarray, ...], attrs: Mapping[str, Any],
            cotangents: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
        """Gradients of Σ cotangent ∘ output by jax.vjp, for the differentiable inputs."""
        if op not in self.ops:
            raise NotImplementedError(f"{self.name} backend: no op {op!r}")
        spec = op_spec(op)
        settings = tuple(attrs[a.name] for a in spec.attrs)
        first = next(i for i, a in enumerate(spec.inputs) if a.differentiable)
        with jax.default_device(self.device):
            arrays, fixed, traced = self._split_arrays(op, (*inputs, *settings))
            dtype = arrays[first].dtype                    # outputs come in the inputs' dtype
            cots = tuple(_device_array(c, self.device, dtype) for c in cotangents)
            _, grads = self._program(op, fixed)(arrays, traced, cots)
        return tuple(np.asarray(g) for g in grads)
