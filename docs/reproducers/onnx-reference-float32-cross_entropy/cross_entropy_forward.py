"""nnspec reproducer: cross_entropy forward (cross_entropy[forward-golden-06], float32).

Calls the backend directly on the failing case and prints how far each result is from nnspec's
expected values (allowed: rtol=1.7e-05, atol=1.7e-05, that is |got - expected| <= atol·max(1,
max|expected|) + rtol·|expected|), then PASS or FAIL; the exit status is 1 while it fails (for
CI or git bisect run)."""
import numpy as np

from conformance.adapters.onnx_reference_backend import OnnxReferenceBackend

backend = OnnxReferenceBackend()

logits = np.array([[267.0276184082031, -265.6790771484375, 798.1448364257812, -800.1777954101562],
    [9999.1416015625, -3334.107666015625, -9999.310546875, 3333.923583984375],
    [-266.4675598144531, -800.7664794921875, 266.90997314453125, 798.7927856445312]], dtype=np.float32)
targets = np.array([3, 2, 2], dtype=np.int64)
expected = {
    "loss": np.array(7376.2191975911455, dtype=np.float64),
}
rtol, atol = 1.7029196224738138e-05, 1.7029196224738138e-05

got = backend.cross_entropy(logits, targets)
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
