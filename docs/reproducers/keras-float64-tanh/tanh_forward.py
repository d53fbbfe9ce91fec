"""nnspec reproducer: tanh forward (tanh[forward-golden-01], float64).

Calls the backend directly on the failing case and prints how far each result is from nnspec's
expected values (allowed: rtol=1.4e-14, atol=1.4e-14, that is |got - expected| <= atol·max(1,
max|expected|) + rtol·|expected|), then PASS or FAIL; the exit status is 1 while it fails (for
CI or git bisect run)."""
import numpy as np

from conformance.adapters.keras_backend import KerasBackend

backend = KerasBackend()

x = np.array([0.0, -2.7606778144836426, -6.190456867218018, 0.0, 0.768587589263916, 4.434605598449707,
    0.0, -3.033186435699463, -1.137940526008606], dtype=np.float64)
expected = {
    "y": np.array([0.0, -0.9920310368534321, -0.9999916041309415, 0.0, 0.6461074080397086, 0.9997187325775683,
    0.0, -0.9953715932109586, -0.8137194436095702], dtype=np.float64),
}
rtol, atol = 1.4210854715202004e-14, 1.4210854715202004e-14

got = backend.tanh(x)
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
