"""nnspec reproducer: sigmoid forward (sigmoid[forward-golden-05], float64).

Calls the backend directly on the failing case and prints how far each result is from nnspec's
expected values (allowed: rtol=1.4e-14, atol=1.4e-14, that is |got - expected| <= atol·max(1,
max|expected|) + rtol·|expected|), then PASS or FAIL; the exit status is 1 while it fails (for
CI or git bisect run)."""
import numpy as np

from conformance.adapters.mygrad_backend import MyGradBackend

backend = MyGradBackend()

x = np.array([[-800.0693359375, -10000.4833984375, 99.95811462402344], [-99.67529296875, 10000.16796875,
    800.4695434570312], [29.82361602783203, 0.563616931438446, -30.294898986816406]], dtype=np.float64)
expected = {
    "y": np.array([[0.0, 0.0, 1.0], [5.147190969170297e-44, 1.0, 1.0], [0.9999999999998883,
    0.6372890146799688, 6.967749682928413e-14]], dtype=np.float64),
}
rtol, atol = 1.4210854715202004e-14, 1.4210854715202004e-14

got = backend.sigmoid(x)
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
