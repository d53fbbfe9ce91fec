"""Spec of reference.convnet (lecture: "ConvNet: CONV, RELU, POOL and FC Layers", "A Basic
ConvNet", "ReLU (Rectified Linear Units) Layer", "Convolutional Neural Networks").

Claim: convnet.stack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from reference import convnet as N
from reference.losses import cross_entropy_backward
from reference.tolerance import assert_close, tolerance
from spec_tests.helpers.oracles import assert_matches_torch

# ---------------------------------------------------------------- torch
# (batch, C, H, W, J kernels, F, pool, M classes)
STACKS = [(2, 1, 8, 8, 4, 3, 2, 2), (3, 2, 6, 9, 3, 3, 3, 4), (1, 3, 10, 10, 2, 5, 2, 3),
          (2, 2, 4, 6, 1, 1, 2, 2)]


@pytest.mark.claim("convnet.stack")
@pytest.mark.torch
@pytest.mark.parametrize(("n", "c", "h", "w", "j", "f", "q", "m"), STACKS)
def test_conv_relu_pool_fc_stack_matches_torch_modules(n: int, c: int, h: int, w: int, j: int,
                                                       f: int, q: int, m: int) -> None:
    rng = np.random.default_rng(n + h + j)
    params = N.init_convnet((c, h, w), j, f, m, pool=q, rng=rng)
    params["b"] = rng.normal(0, 0.5, j)                     # non-zero biases are part of it
    params["b_fc"] = rng.normal(0, 0.5, m)
    V = rng.normal(size=(n, c, h, w))
    targets = rng.integers(0, m, n)
    out = N.convnet_forward(V, params, pool=q)
    loss, grads = N.convnet_loss_and_grads(params, V, targets, pool=q)
    dlogits = cross_entropy_backward(out.logits, targets)   # for ∂L/∂V, which the loop skips
    dV, grads_again = N.convnet_backward(dlogits, V, params, pool=q)

    def torch_stack(V: torch.Tensor, K: torch.Tensor, b: torch.Tensor, W: torch.Tensor,
                    b_fc: torch.Tensor) -> Any:
        stack = nn.Sequential(nn.Conv2d(c, j, f, stride=1, padding=(f - 1) // 2),  # CONV
                              nn.ReLU(), nn.MaxPool2d(q), nn.Flatten(),              # RELU, POOL
                              nn.Linear(W.shape[1], m)).double()                     # FC
        # the modules run with our weights in place of theirs (so that gradients reach them)
        weights = {"0.weight": K, "0.bias": b, "4.weight": W, "4.bias": b_fc}
        logits = torch.func.functional_call(stack, weights, (V,))
        return logits, F.cross_entropy(logits, torch.as_tensor(targets))

    inputs = {"V": V, **params}
    ours_grads = {"V": dV, **grads}
    terms = max(c * f * f, j * h * w // (q * q), n * h * w)
    # two outputs (logits, loss); upstream 0 on the logits: the gradients are those of the loss
    assert_matches_torch(torch_stack, inputs, (out.logits, loss), ours_grads,
                         (np.zeros_like(out.logits), 1.0), terms=terms, depth=4,
                         what="CONV → RELU → POOL → FC")
    for k in grads:
        assert_close(grads_again[k], grads[k], tolerance(np.float64, terms=terms, depth=4),
                     what=f"convnet_backward vs convnet_loss_and_grads: {k}")


# ---------------------------------------------------------------- behaviour
@pytest.mark.claim("convnet.stack")
@pytest.mark.behaviour
def test_convnet_learns_vertical_from_horizontal_bars_to_95_percent() -> None:
    """Seed 0; 200 training and 200 held-out 8×8 images; 4 kernels of 3×3, 2×2 max pool, FC to
    2 classes; 150 steps of full-batch gradient descent at lr 0.3 (about 0.5 s). Thresholds:
    held-out accuracy ≥ 95 % (measured 98 %), training loss below a quarter of its start."""
    result = N.train_bars_convnet(seed=0)
    losses = result.descent.losses
    assert len(losses) == 150
    assert losses[-1] < 0.25 * losses[0], f"loss {losses[0]:.3f} → {losses[-1]:.3f}"
    assert result.test_accuracy >= 0.95, f"held-out accuracy {result.test_accuracy:.3f}"
    assert result.train_accuracy >= 0.95, f"training accuracy {result.train_accuracy:.3f}"


@pytest.mark.claim("convnet.stack")
@pytest.mark.generator
def test_bars_dataset_is_seeded_and_balanced() -> None:
    V, labels = N.bars_dataset(400, 8, rng=3)
    V2, labels2 = N.bars_dataset(400, 8, rng=np.random.default_rng(3))
    assert np.array_equal(V, V2) and np.array_equal(labels, labels2), "same seed, same images"
    assert V.shape == (400, 1, 8, 8) and set(np.unique(labels)) == {0, 1}
    assert 0.4 < labels.mean() < 0.6
    clean, lab = N.bars_dataset(50, 7, noise=1e-12, rng=0)
    rounded = np.round(clean[:, 0])
    assert np.all(rounded.sum(axis=(1, 2)) == 4), "one bar of (7 + 1)/2 = 4 pixels"
    vertical = rounded.max(axis=1).sum(axis=1) == 1          # all of it in a single column
    assert np.array_equal(vertical, lab == 0)


@pytest.mark.claim("convnet.stack")
@pytest.mark.generator
def test_init_convnet_scales_its_weights_by_he_over_the_whole_fan_in() -> None:
    """in_shape (3, 8, 8), 1000 kernels of 3×3, 10 classes, pool 2, seed 7 (the docstring's "He
    -scaled normal weights"): K [1000, 3, 3, 3] has std within 5 % of √(2/(C·F²)) = √(2/27),
    each kernel's fan-in counting all C = 3 channels; W [10, 16 000] has std within 5 % of
    √(2/D) with D = J·(H/q)·(W/q) = 16 000; the biases are zero.

    Why 5 % is safe: the standard error of a std estimated from n normal draws is ≈ σ/√(2n),
    0.4 % of σ for K's n = 27 000 and 0.2 % for W's n = 160 000, so 5 % is more than 10
    standard errors; leaving C out of K's fan-in would make its std √3 times too large.
    """
    params = N.init_convnet((3, 8, 8), 1000, 3, 10, pool=2, rng=7)
    assert params["K"].shape == (1000, 3, 3, 3) and params["W"].shape == (10, 16_000)
    for name, fan_in in (("K", 3 * 3 * 3), ("W", 1000 * 4 * 4)):
        expected = np.sqrt(2.0 / fan_in)
        std = float(params[name].std())
        assert abs(std / expected - 1) < 0.05, (name, std, expected)
    assert not np.any(params["b"]) and not np.any(params["b_fc"])


@pytest.mark.claim("convnet.stack")
@pytest.mark.generator
def test_bars_dataset_places_bars_on_every_line_and_at_every_offset() -> None:
    """1000 near-noiseless 8×8 images, seed 11: bars are 4 pixels long, so each starts at one of
    the offsets 0..4 along its line; every (orientation, line) and (orientation, offset) pair
    occurs (each is expected about 1000/16 = 62 and 1000/10 = 100 times, so with a seed a missing
    one can only mean the generator never draws it)."""
    V, labels = N.bars_dataset(1000, 8, noise=1e-12, rng=11)
    bar = np.round(V[:, 0]).astype(bool)                 # [n, 8, 8]
    assert np.all(bar.sum(axis=(1, 2)) == 4)
    rows, cols = bar.any(axis=2), bar.any(axis=1)        # [n, 8]: which rows / columns it touches
    vertical = labels == 0                               # a vertical bar lies in one column
    line = np.where(vertical, cols.argmax(axis=1), rows.argmax(axis=1))
    start = np.where(vertical, rows.argmax(axis=1), cols.argmax(axis=1))
    for label in (0, 1):
        assert set(line[labels == label]) == set(range(8)), (label, np.unique(line))
        assert set(start[labels == label]) == set(range(5)), (label, np.unique(start))


# ---------------------------------------------------------------- properties
@pytest.mark.claim("convnet.stack")
@pytest.mark.property
@given(st.integers(0, 7), st.integers(0, 7), st.integers(0, 2**32 - 1))
def test_relu_keeps_the_receptive_fields_of_the_conv_layer(r: int, c: int, seed: int) -> None:
    # "without affecting the receptive fields": a pixel outside a unit's 3×3 field changes
    # neither z nor a = ReLU(z) of that unit, inside it z changes (ReLU acts unit by unit)
    rng = np.random.default_rng(seed)
    params = N.init_convnet((1, 8, 8), 2, 3, 2, rng=rng)
    V = rng.normal(size=(1, 1, 8, 8))
    moved = V.copy()
    moved[0, 0, r, c] += 1.0
    before, after = N.convnet_forward(V, params), N.convnet_forward(moved, params)
    rows, cols = np.mgrid[0:8, 0:8]
    field = (np.abs(rows - r) <= 1) & (np.abs(cols - c) <= 1)   # units whose field holds (r, c)
    assert np.array_equal(before.z[..., ~field], after.z[..., ~field])
    assert np.array_equal(before.a[..., ~field], after.a[..., ~field])
    assert np.all(before.a == np.maximum(before.z, 0.0))


# ---------------------------------------------------------------- bad input
@pytest.mark.claim("convnet.stack", "convention.errors")
@pytest.mark.errors
def test_convnet_refuses_bad_parameters_by_name() -> None:
    rng = np.random.default_rng(0)
    params = N.init_convnet((1, 8, 8), 2, 3, 2, rng=rng)
    V = np.zeros((1, 1, 8, 8))
    with pytest.raises(ValueError, match=r"^convnet_forward: params must map exactly"
                                         r" \['K', 'b', 'W', 'b_fc'\] to arrays, got \['K', 'W'"):
        N.convnet_forward(V, {"K": params["K"], "W": params["W"]})
    with pytest.raises(TypeError, match=r"^convnet_backward: params must be a mapping.*got list"):
        N.convnet_backward(np.zeros((1, 2)), V, [1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^convnet_forward: params\['K'\] must be square kernels"):
        N.convnet_forward(V, {**params, "K": np.zeros((2, 1, 3, 1))})
    with pytest.raises(ValueError, match=r"^same_padding: F = 2 is even"):
        N.convnet_forward(V, {**params, "K": np.zeros((2, 1, 2, 2))})
    with pytest.raises(ValueError, match=r"^dense: W expects 32 inputs but x has 18"):
        N.convnet_forward(np.zeros((1, 1, 6, 6)), params)
    with pytest.raises(ValueError, match=r"^max_pool2d: .*\(8 − 3\)/3 \+ 1 = 2\.67"):
        N.convnet_forward(V, params, pool=3)
    with pytest.raises(ValueError, match=r"^convnet_forward: params\['W'\] must be finite"):
        N.convnet_forward(V, {**params, "W": np.full_like(params["W"], np.nan)})
    with pytest.raises(ValueError, match=r"^bars_dataset: size must be at least 3, got 2"):
        N.bars_dataset(4, 2, rng=0)
    with pytest.raises(TypeError, match=r"^init_convnet: rng must be a numpy.random.Generator"):
        N.init_convnet((1, 8, 8), 2, 3, 2, rng=None)
    with pytest.raises(ValueError, match=r"^init_convnet: kernels must be at least 1"):
        N.init_convnet((1, 8, 8), 0, 3, 2, rng=0)


_PARAMS = N.init_convnet((1, 8, 8), 2, 3, 2, rng=0)
_V = np.zeros((3, 1, 8, 8))


@pytest.mark.claim("convnet.stack", "convention.errors")
@pytest.mark.errors
@pytest.mark.parametrize(("call", "kind", "words"), [
    (lambda: N.convnet_loss_and_grads({"K": _PARAMS["K"]}, _V, [0, 1, 0]), ValueError,
     r"^convnet_loss_and_grads: params must map exactly \['K', 'b', 'W', 'b_fc'\]"),
    (lambda: N.convnet_loss_and_grads(_PARAMS, _V[0], [0, 1, 0]), ValueError,
     r"^convnet_loss_and_grads: V must be 4-D, got 3-D"),
    (lambda: N.convnet_loss_and_grads(_PARAMS, np.full_like(_V, np.inf), [0, 1, 0]),
     ValueError, r"^convnet_loss_and_grads: V must be finite, got inf"),
    (lambda: N.convnet_loss_and_grads(_PARAMS, _V, [0, 1]), ValueError,
     r"^convnet_loss_and_grads: targets has 2 labels but V has 3 images"),
    (lambda: N.convnet_loss_and_grads(_PARAMS, _V, [0, 1, 2]), ValueError,
     r"^convnet_loss_and_grads: targets holds id 2, outside \[0, 2\)"),
    (lambda: N.convnet_loss_and_grads(_PARAMS, _V, [0.0, 1.0, 0.0]), TypeError,
     r"^convnet_loss_and_grads: targets must hold integer ids"),
    (lambda: N.convnet_loss_and_grads(_PARAMS, _V, [[0, 1, 0]]), ValueError,
     r"^convnet_loss_and_grads: targets must be 1-D, got 2-D"),
    (lambda: N.convnet_loss_and_grads({**_PARAMS, "W": np.zeros(3)}, _V, [0, 1, 0]), ValueError,
     r"^convnet_loss_and_grads: params\['W'\] must be 2-D \[M, D\], got shape \(3,\)"),
    (lambda: N.convnet_loss_and_grads({**_PARAMS, "b": [np.nan, 0.0]}, _V, [0, 1, 0]),
     ValueError, r"^convnet_loss_and_grads: params\['b'\] must be finite"),
    (lambda: N.train_bars_convnet(seed=None), TypeError,  # type: ignore[arg-type]
     r"^train_bars_convnet: rng must be a numpy.random.Generator or an int seed"),
    (lambda: N.train_bars_convnet(n_train=0), ValueError,
     r"^train_bars_convnet: n_train must be at least 1, got 0"),
    (lambda: N.train_bars_convnet(steps=2.5), TypeError,  # type: ignore[arg-type]
     r"^train_bars_convnet: steps must be an integer, got float 2.5"),
    (lambda: N.train_bars_convnet(lr=-0.1), ValueError,
     r"^train_bars_convnet: lr must be a finite number > 0, got -0.1"),
    (lambda: N.train_bars_convnet(size=7), ValueError,
     r"^train_bars_convnet: size must be an even number ≥ 4 .* got 7"),
    (lambda: N.train_bars_convnet(kernels=True), TypeError,
     r"^train_bars_convnet: kernels must be an integer, got bool True"),
])
def test_loss_and_training_refuse_bad_input_by_their_own_name(call: Callable[[], Any], kind: type,
                                                              words: str) -> None:
    with pytest.raises(kind, match=words):
        call()
