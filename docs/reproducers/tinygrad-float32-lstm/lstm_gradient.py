"""nnspec reproducer: lstm gradient (lstm[gradient-golden-03], float32).

Calls the backend directly on the failing case and prints how far each result is from nnspec's
expected values (allowed: rtol=0.001, atol=0.001, that is |got - expected| <= atol·max(1,
max|expected|) + rtol·|expected|), then PASS or FAIL; the exit status is 1 while it fails (for
CI or git bisect run)."""
import numpy as np
from pathlib import Path

from conformance.adapters.tinygrad_backend import TinygradBackend

backend = TinygradBackend()

arrays = np.load(Path(__file__).with_name("lstm_gradient.npz"))
x = arrays["x"]
h0 = arrays["h0"]
c0 = arrays["c0"]
w_ih = arrays["w_ih"]
w_hh = arrays["w_hh"]
b_ih = arrays["b_ih"]
b_hh = arrays["b_hh"]
dout = arrays["dout"]
dh_n = arrays["dh_n"]
dc_n = arrays["dc_n"]
expected = {"dx": arrays["expected/dx"], "dh0": arrays["expected/dh0"], "dc0": arrays["expected/dc0"], "dw_ih": arrays["expected/dw_ih"], "dw_hh": arrays["expected/dw_hh"], "db_ih": arrays["expected/db_ih"], "db_hh": arrays["expected/db_hh"]}
rtol, atol = 0.001001978019103927, 0.001001978019103927

got = backend.vjp('lstm', (x, h0, c0, w_ih, w_hh, b_ih, b_hh,), {}, (dout, dh_n, dc_n,))
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
