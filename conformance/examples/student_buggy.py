# mypy: allow-untyped-defs
"""My NumPy layers for the lecture's exercises: forward and backward of each layer.

Shapes follow the lecture: images NCHW, kernels [K, C, FH, FW], dense weights W [M, D].
Each backward takes the upstream gradient first, then the forward's arguments, and returns the
gradient of every input, in the forward's order.
"""

import numpy as np


def relu(x):
    return np.maximum(x, 0.0)


def relu_backward(dy, x):
    return dy * (x > 0)                     # relu'(0) = 0


def linear(x, w, b):
    return x @ w.T + b                      # z = Wx + b, one example per row


def linear_backward(dy, x, w, b):
    dx = dy @ w
    dw = dy.T @ x
    db = dy.sum(axis=0)
    return dx, dw, db


def conv2d(x, w, b, stride, padding):
    N, _, H, W = x.shape
    K, _, FH, FW = w.shape
    SH, SW = stride
    PH, PW = padding
    OH = (H + 2 * PH - FH) // SH + 1
    OW = (W + 2 * PW - FW) // SW + 1
    xp = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    w = w[:, :, ::-1, ::-1]                 # a convolution flips the kernel
    y = np.zeros((N, K, OH, OW), dtype=x.dtype)
    for i in range(OH):
        for j in range(OW):
            window = xp[:, :, i * SH:i * SH + FH, j * SW:j * SW + FW]       # [N, C, FH, FW]
            y[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return y


def conv2d_backward(dy, x, w, b, stride, padding):
    H, W = x.shape[2:]
    FH, FW = w.shape[2:]
    SH, SW = stride
    PH, PW = padding
    xp = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            window = xp[:, :, i * SH:i * SH + FH, j * SW:j * SW + FW]
            dxp[:, :, i * SH:i * SH + FH, j * SW:j * SW + FW] += np.tensordot(
                dy[:, :, i, j], w, axes=([1], [0]))
            dw += np.tensordot(dy[:, :, i, j], window, axes=([0], [0]))
    dx = dxp[:, :, PH:PH + H, PW:PW + W]
    db = dy.sum(axis=(0, 2, 3))
    return dx, dw, db


def max_pool2d(x, kernel_size, stride):
    N, C, H, W = x.shape
    FH, FW = kernel_size
    SH, SW = stride
    OH, OW = (H - FH) // SH + 1, (W - FW) // SW + 1
    y = np.zeros((N, C, OH, OW), dtype=x.dtype)
    for i in range(OH):
        for j in range(OW):
            y[:, :, i, j] = x[:, :, i * SH:i * SH + FH, j * SW:j * SW + FW].max(axis=(2, 3))
    return y


def max_pool2d_backward(dy, x, kernel_size, stride):
    N, C = x.shape[:2]
    FH, FW = kernel_size
    SH, SW = stride
    dx = np.zeros_like(x)
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            window = x[:, :, i * SH:i * SH + FH, j * SW:j * SW + FW].reshape(N, C, -1)
            first = window.argmax(axis=2)                   # the first maximum wins ties
            rows, cols = np.divmod(first, FW)
            n, c = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
            dx[n, c, i * SH + rows, j * SW + cols] += dy[:, :, i, j]
    return dx
