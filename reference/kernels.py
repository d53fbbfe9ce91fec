"""The slides' kernels (lecture: "Kernels", "Kernel: 3x3 Example", "Kernels as Feature
Detectors").

    A kernel is a grid of weights "overlaid" on image, centered on one pixel. Used for
    traditional image processing techniques: blur, sharpen, edge detection, emboss.
    Can think of kernels as "local feature detectors".

Every kernel here is a read-only 3×3 float64 array [FH, FW], applied by cross-correlation (no
flip, as reference.conv.conv2d does): ``conv2d(image[None, None], kernel[None, None])``.

Notation
--------
FH, FW   kernel height and width (3 × 3 here)
W_p      the weight over tap p; the output over the centre pixel is Σ_p W_p · pixel_p

The library
-----------
sobel_x          [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], the slide's 3×3 example (responds to a
                 change from left to right: vertical edges); sobel_y is its transpose
box_blur         all weights 1/9: the mean of the 3×3 neighbourhood
gaussian_blur    [[1, 2, 1], [2, 4, 2], [1, 2, 1]] / 16: a binomial approximation of a Gaussian
sharpen          [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]: the pixel plus its difference from its
                 four neighbours
edge_detection   [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]: a discrete Laplacian, 0 on flat areas
emboss           [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]: a diagonal relief
vertical_line    [[-1, 1, -1]] × 3, the slide's vertical line detector
horizontal_line  [[-1, -1, -1], [1, 1, 1], [-1, -1, -1]], the slide's horizontal line detector
corner           [[-1, -1, -1], [-1, 1, 1], [-1, 1, -1]]

Decisions where the slides are silent
-------------------------------------
The lecture names blur, sharpen, edge detection and emboss without giving their weights; the
common textbook choices above are taken. The corner detector's weights did not survive in the
lecture's text (only the two line detectors did). It is written here in the same style as the
line detectors, +1 on the pattern and −1 elsewhere, for an "┌" corner: the centre pixel with its
right and lower neighbours. Each of the three detectors gives 3 on its own 3-pixel pattern and at
most 1 on the other two.
"""

from __future__ import annotations

import numpy as np

from reference._checks import FloatArray

__all__ = ["CLASSIC", "DETECTORS", "KERNELS"]


def _kernel(rows: list[list[float]], scale: float = 1.0) -> FloatArray:
    k = np.array(rows, dtype=np.float64) / scale
    k.flags.writeable = False
    return k


KERNELS: dict[str, FloatArray] = {
    "sobel_x": _kernel([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel_y": _kernel([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "box_blur": _kernel([[1, 1, 1], [1, 1, 1], [1, 1, 1]], 9.0),
    "gaussian_blur": _kernel([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 16.0),
    "sharpen": _kernel([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "edge_detection": _kernel([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "emboss": _kernel([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
    "vertical_line": _kernel([[-1, 1, -1], [-1, 1, -1], [-1, 1, -1]]),
    "horizontal_line": _kernel([[-1, -1, -1], [1, 1, 1], [-1, -1, -1]]),
    "corner": _kernel([[-1, -1, -1], [-1, 1, 1], [-1, 1, -1]]),
}
"""Every kernel of the slides by name: 3×3, float64, read-only."""

CLASSIC = ("box_blur", "gaussian_blur", "sharpen", "edge_detection", "emboss", "sobel_x",
           "sobel_y")
"""The traditional image-processing kernels ("Blur, Sharpen, Edge detection, Emboss")."""

DETECTORS = ("vertical_line", "horizontal_line", "corner")
"""The slide's local feature detectors."""
