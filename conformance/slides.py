"""Slide cases: the lecture's worked examples, as conformance cases every backend must reproduce.

The numbers are the hand-computed ones of fixtures/slides/ (read with reference.fixtures); each
entry of ``SLIDES`` says which fixture feeds which op and how its keys map onto the contract's
inputs, attributes, outputs and gradients. A backend is compared with the slide's numbers under
the policy's tolerance for its dtype (the slides' small integers are exact in any dtype, but a
backend may legitimately sum in another order), or the fixture's own tolerance where that is
looser (a fixture states one when its numbers are not exactly representable).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from conformance.cases import Case
from conformance.contract import OPS
from reference.fixtures import slide_case
from reference.tolerance import Tolerance

__all__ = ["SLIDES", "slide_cases_for"]


def _array(value: Any, ndim: int | None = None) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    while ndim is not None and arr.ndim < ndim:
        arr = arr[None]                 # a slide's single image [H, W] → [1, 1, H, W]
    return arr


def _tolerance(fixture: dict[str, Any]) -> Tolerance | None:
    tol = float(fixture.get("tolerance") or 0.0)
    return Tolerance(rtol=tol, atol=tol) if tol else None


def _case(fixture: dict[str, Any], op: str, inputs: dict[str, np.ndarray], *,
          name: str | None = None, attrs: dict[str, Any] | None = None,
          expected: dict[str, np.ndarray], grads: dict[str, np.ndarray] | None = None,
          upstream: dict[str, np.ndarray] | None = None) -> Case:
    """A slide case; with ``grads`` and no ``upstream``, the upstream gradient is all ones."""
    if grads is not None and upstream is None:
        upstream = {o.name: np.ones_like(expected[o.name]) for o in OPS[op].outputs}
    return Case(op=op, source="slide", name=name or fixture["name"], inputs=inputs,
                attrs=attrs or {}, upstream=upstream or {}, expected=expected,
                expected_grads=grads, about=f"{fixture['about']} [{fixture['source']}]",
                claims=(fixture["claim"],), tolerance=_tolerance(fixture))


def _pair(value: Any) -> tuple[int, int]:
    return (int(value), int(value)) if np.ndim(value) == 0 else (int(value[0]), int(value[1]))


def _conv_attrs(params: dict[str, Any]) -> dict[str, Any]:
    return {"stride": _pair(params.get("stride", 1)), "padding": _pair(params.get("padding", 0))}


# ---------------------------------------------------------------- one function per fixture
def _step_threshold(f: dict[str, Any]) -> list[Case]:
    x = _array(f["inputs"]["x"])
    return [_case(f, "step", {"x": x}, expected={"y": _array(f["expected"]["step"])},
                  grads={"x": _array(f["expected"]["step_grad"])})]


def _neuron_weighted_sum(f: dict[str, Any]) -> list[Case]:
    """The neuron's weighted sum is a linear layer with M = 1; step and relu act on it."""
    e, p = f["expected"], f["params"]
    z = _array(e["activation"])
    linear = _case(f, "linear", {"x": _array(f["inputs"]["x"]), "w": _array([p["w"]]),
                                 "b": _array([p["b"]])}, expected={"y": z[:, None]})
    step = _case(f, "step", {"x": z}, name=f"{f['name']}_step",
                 expected={"y": _array(e["o_step"])})
    relu = _case(f, "relu", {"x": z}, name=f"{f['name']}_relu",
                 expected={"y": _array(e["o_relu"])})
    return [linear, step, relu]


def _gate(f: dict[str, Any]) -> list[Case]:
    """A step perceptron on its truth table: the weighted sum as linear (M = 1), then step."""
    p, e = f["params"], f["expected"]
    total = _array(e["sum"])
    linear = _case(f, "linear", {"x": _array(f["inputs"]["x"]), "w": _array([p["w"]]),
                                 "b": _array([p["b"]])},
                   name=f"{f['name']}_sum", expected={"y": total[:, None]})
    step = _case(f, "step", {"x": total}, name=f"{f['name']}_step",
                 expected={"y": _array(e["o"])})
    return [linear, step]


def _two_two_one(f: dict[str, Any]) -> list[Case]:
    """The slide's 2-2-1 network as two layers: linear (in3, in4), g, linear (in5), g.

    The slide has no biases: b = 0. Rows are the examples (a1_n, a2_n).
    """
    p, e, g, name = f["params"], f["expected"], f["params"]["g"], f["name"]
    x = _array([f["inputs"]["a1"], f["inputs"]["a2"]]).T                 # [N, 2]
    hidden_in, hidden = _array([e["in3"], e["in4"]]).T, _array([e["a3"], e["a4"]]).T

    def output(weights: dict[str, float], suffix: str) -> list[Case]:
        return [
            _case(f, "linear", {"x": hidden, "w": _array([[weights["W35"], weights["W45"]]]),
                                "b": np.zeros(1)},
                  name=f"{name}_output_linear{suffix}",
                  expected={"y": _array(e[f"in5{suffix}"])[:, None]}),
            _case(f, g, {"x": _array(e[f"in5{suffix}"])}, name=f"{name}_output_{g}{suffix}",
                  expected={"y": _array(e[f"a5{suffix}"])}),
        ]

    W = p["W"]
    cases = [
        _case(f, "linear", {"x": x, "w": _array([[W["W13"], W["W23"]], [W["W14"], W["W24"]]]),
                            "b": np.zeros(2)},
              name=f"{name}_hidden_linear", expected={"y": hidden_in}),
        _case(f, g, {"x": hidden_in}, name=f"{name}_hidden_{g}", expected={"y": hidden}),
        *output(W, ""),
    ]
    if "W_adjusted" in p:                       # "adjusting weights changes the function"
        cases += output(p["W_adjusted"], "_adjusted")
    return cases


def _xor_network(f: dict[str, Any]) -> list[Case]:
    """XOR with one hidden layer: linear (z1), step (hidden), linear (z2), step (output)."""
    p, e, name = f["params"], f["expected"], f["name"]
    hidden_f, output_f = p["f"]
    return [
        _case(f, "linear", {"x": _array(f["inputs"]["x"]), "w": _array(p["W1"]),
                            "b": _array(p["b1"])},
              name=f"{name}_hidden_linear", expected={"y": _array(e["z1"])}),
        _case(f, hidden_f, {"x": _array(e["z1"])}, name=f"{name}_hidden_{hidden_f}",
              expected={"y": _array(e["hidden"])}),
        _case(f, "linear", {"x": _array(e["hidden"]), "w": _array(p["W2"]),
                            "b": _array(p["b2"])},
              name=f"{name}_output_linear", expected={"y": _array(e["z2"])}),
        _case(f, output_f, {"x": _array(e["z2"])}, name=f"{name}_output_{output_f}",
              expected={"y": _array(e["output"])}),
    ]


def _window(f: dict[str, Any]) -> list[Case]:
    """The window classifier s = Uᵀ f(Wx + b) for one window (a batch of one), layer by layer.

    linear(x, W, b) → z, with upstream δ its gradients ∂s/∂x = Wᵀδ, ∂s/∂W = δxᵀ, ∂s/∂b = δ;
    f(z) → a, with upstream ∂s/∂a = U its gradient δ = U ∘ f'(z); linear(a, Uᵀ, 0) → s, with
    upstream 1 its gradients ∂s/∂a = U, ∂s/∂U = a and 1 for the (zero) output bias the slide
    does not have.
    """
    i, e, act, name = f["inputs"], f["expected"], f["params"]["f"], f["name"]
    x = _array(i["word_vectors"]).reshape(1, -1)          # x_window = [x_1; ...; x_5], [1, 20]
    z, a, U = _array(e["z"])[None], _array(e["a"])[None], _array(i["U"])
    delta = _array(e["delta"])[None]
    return [
        _case(f, "linear", {"x": x, "w": _array(i["W"]), "b": _array(i["b"])},
              name=f"{name}_hidden_linear", expected={"y": z},
              grads={"x": _array(e["ds_dx"])[None], "w": _array(e["ds_dW"]),
                     "b": _array(e["ds_db"])},
              upstream={"y": delta}),
        _case(f, act, {"x": z}, name=f"{name}_hidden_{act}", expected={"y": a},
              grads={"x": delta}, upstream={"y": U[None]}),
        _case(f, "linear", {"x": a, "w": U[None], "b": np.zeros(1)},
              name=f"{name}_score_linear", expected={"y": _array([[e["s"]]])},
              grads={"x": U[None], "w": _array(e["ds_dU"])[None], "b": np.ones(1)}),
    ]


def _window_margin_cases(f: dict[str, Any]) -> list[Case]:
    inputs = {"s": _array(f["inputs"]["s"]), "s_c": _array(f["inputs"]["s_c"])}
    e = f["expected"]
    delta = float(f["params"]["delta"])

    def away_from_kink(d: float) -> dict[str, np.ndarray]:
        # at the kink Δ + s_c − s = 0 any slope in [0, 1] is a subgradient (torch's clamp takes
        # 1, JAX's maximum ½, nnspec 0): an upstream 0 there lets every choice pass
        return {"J": np.where(d + inputs["s_c"] - inputs["s"] == 0, 0.0, 1.0)}

    return [
        _case(f, "max_margin", inputs, attrs={"delta": delta},
              expected={"J": _array(e["J"])},
              grads={"s": _array(e["dJ_ds"]), "s_c": _array(e["dJ_ds_c"])},
              upstream=away_from_kink(delta)),
        _case(f, "max_margin", inputs, name=f"{f['name']}_no_margin", attrs={"delta": 0.0},
              expected={"J": _array(e["J_no_margin"])},
              grads={"s": _array(e["dJ_ds_no_margin"]), "s_c": _array(e["dJ_ds_c_no_margin"])},
              upstream=away_from_kink(0.0)),
    ]


def _single_kernel(image: str, kernel: str) -> Callable[[dict[str, Any]], list[Case]]:
    """A slide's one image and one kernel as conv2d on [1, 1, H, W] with a zero bias."""
    def build(f: dict[str, Any]) -> list[Case]:
        x, w = _array(f["inputs"][image], 4), _array(f["inputs"][kernel], 4)
        return [_case(f, "conv2d", {"x": x, "w": w, "b": np.zeros(1)},
                      attrs=_conv_attrs(f["params"]),
                      expected={"y": _array(f["expected"]["y"], 4)})]
    return build


def _detectors_on_their_patterns(f: dict[str, Any]) -> list[Case]:
    """Three patterns (N = 3) through three detectors (K = 3): y[n, k] = response of k to n."""
    patterns, detectors = f["inputs"]["patterns"], f["inputs"]["detectors"]
    names = list(detectors)
    x = _array([[patterns[n]] for n in names])                     # [3, 1, 3, 3]
    w = _array([[detectors[k]] for k in names])                    # [3, 1, 3, 3]
    responses = f["expected"]["responses"]                         # responses[detector][pattern]
    y = _array([[[[responses[k][n]]] for k in names] for n in names])
    return [_case(f, "conv2d", {"x": x, "w": w, "b": np.zeros(len(names))},
                  attrs={"stride": (1, 1), "padding": (0, 0)}, expected={"y": y})]


def _classic_kernels(f: dict[str, Any]) -> list[Case]:
    """The fixture's classic kernels (integer weights / divisor) stacked as K = 7 over the Sobel
    patch."""
    kernels, divisors = f["inputs"]["kernels"], f["inputs"]["divisors"]
    names = list(f["expected"]["y"])
    w = _array([[_array(kernels[k]) / divisors.get(k, 1)] for k in names])
    y = _array([f["expected"]["y"][k] for k in names]).reshape(1, len(names), 1, 1)
    return [_case(f, "conv2d", {"x": _array(f["inputs"]["patch"], 4), "w": w,
                                "b": np.zeros(len(names))},
                  attrs={"stride": (1, 1), "padding": (0, 0)}, expected={"y": y})]


def _pooling(op: str) -> Callable[[dict[str, Any]], list[Case]]:
    """A slide's pooling of one map, forward and (with the fixture's dy) its gradient."""
    def build(f: dict[str, Any]) -> list[Case]:
        e, p = f["expected"], f["params"]
        return [_case(f, op, {"x": _array(f["inputs"]["x"], 4)},
                      attrs={"kernel_size": _pair(p["kernel_size"]), "stride": _pair(p["stride"])},
                      expected={"y": _array(e["y"], 4)}, grads={"x": _array(e["dx"], 4)},
                      upstream={"y": _array(f["inputs"]["dy"], 4)})]
    return build


SLIDES: dict[str, Callable[[dict[str, Any]], list[Case]]] = {
    "step_threshold": _step_threshold,
    "neuron_weighted_sum": _neuron_weighted_sum,
    "perceptron_gate_and": _gate,
    "perceptron_gate_or": _gate,
    "perceptron_gate_not": _gate,
    "perceptron_gate_majority": _gate,
    "two_two_one_step": _two_two_one,
    "two_two_one_relu": _two_two_one,
    "xor_network": _xor_network,
    "window_paris_relu": _window,
    "window_paris_logistic": _window,
    "window_margin_cases": _window_margin_cases,
    "sobel_patch": _single_kernel("patch", "kernel"),
    "classic_kernels_on_sobel_patch": _classic_kernels,
    "detectors_on_their_patterns": _detectors_on_their_patterns,
    "vertical_detector_on_an_image": _single_kernel("image", "kernel"),
    "conv_5x5_no_padding": _single_kernel("x", "kernel"),
    "conv_5x5_padding_1": _single_kernel("x", "kernel"),
    "conv_5x5_stride_2": _single_kernel("x", "kernel"),
    "conv_5x5_stride_2_padding_1": _single_kernel("x", "kernel"),
    "max_pool_2x2_stride_2": _pooling("max_pool2d"),
    "avg_pool_2x2_stride_2": _pooling("avg_pool2d"),
}
"""fixture name → the cases it gives (each names its op)."""


def slide_cases_for(ops: Iterable[str] | None = None) -> list[Case]:
    """The slide cases of ``ops`` (all ops by default), in the order of ``SLIDES``."""
    wanted = set(OPS if ops is None else ops)
    cases = [c for name, build in SLIDES.items() for c in build(slide_case(name))]
    return [c for c in cases if c.op in wanted]


def slides_of(op: str) -> list[Case]:
    """The slide cases of one op (for ``nnspec explain``)."""
    return slide_cases_for([op])
