"""nnspec reproducer: max_pool2d gradient (max_pool2d[gradient-golden-07], float64).

Calls the backend directly on the failing case and prints how far each result is from nnspec's
expected values (allowed: rtol=5.7e-14, atol=5.7e-14, that is |got - expected| <= atol·max(1,
max|expected|) + rtol·|expected|), then PASS or FAIL; the exit status is 1 while it fails (for
CI or git bisect run)."""
import numpy as np

from conformance.adapters.tinygrad_backend import TinygradBackend

backend = TinygradBackend()

x = np.array([[[[1.0, 3.0, 3.0, 0.0], [3.0, 3.0, 1.0, 1.0], [2.0, 2.0, 5.0, 5.0], [2.0, 2.0, 5.0, 5.0]]]], dtype=np.float64)
dy = np.array([[[[0.07377923280000687, -0.4726974666118622], [1.0811693668365479, -0.06056837737560272]]]], dtype=np.float64)
expected = {
    "dx": np.array([[[[0.0, 0.07377923280000687, -0.4726974666118622, 0.0], [0.0, 0.0, 0.0, 0.0],
    [1.0811693668365479, 0.0, -0.06056837737560272, 0.0], [0.0, 0.0, 0.0, 0.0]]]], dtype=np.float64),
}
kernel_size = (2, 2)
stride = (2, 2)
rtol, atol = 5.684341886080802e-14, 5.684341886080802e-14

got = backend.vjp('max_pool2d', (x,), {"kernel_size": kernel_size, "stride": stride}, (dy,))
if isinstance(got, dict):
    got = [got[name] for name in expected]
elif not isinstance(got, (tuple, list)) or len(got) != len(expected):
    got = [got]
failing = []
for (name, want), value in zip(expected.items(), got):
    value = np.asarray(value, dtype=np.float64)
    if value.shape != want.shape:
        print(f"{name}: shape {value.shape}, expected {want.shape}")
        failing.append(name)
        continue
    error = np.abs(value - want)
    allowed = atol * max(1.0, np.abs(want).max(initial=0.0)) + rtol * np.abs(want)
    worst = np.unravel_index(np.argmax(error), error.shape) if error.size else ()
    print(f"{name}: max abs error {error.max(initial=0.0):.3g} at index "
          f"{tuple(int(i) for i in worst)}")
    if not np.all(error <= allowed):             # (nan is never allowed)
        failing.append(name)
print(f"FAIL: {', '.join(failing)}" if failing else "PASS")
raise SystemExit(1 if failing else 0)
