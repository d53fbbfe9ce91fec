"""nnspec reproducer: cross_entropy gradient (cross_entropy[gradient-golden-05], float64).

Calls the backend directly on the failing case and prints how far each result is from nnspec's
expected values (allowed: rtol=9.2e-14, atol=9.2e-14, that is |got - expected| <= atol·max(1,
max|expected|) + rtol·|expected|), then PASS or FAIL; the exit status is 1 while it fails (for
CI or git bisect run)."""
import numpy as np

from conformance.adapters.mygrad_backend import MyGradBackend

backend = MyGradBackend()

logits = np.array([[10001.12890625, 9998.8193359375, 10004.02734375, 9997.28125, 9998.4267578125],
    [-10003.0146484375, -9997.5498046875, -10004.671875, -10001.8662109375,
    -10001.03515625], [800.673583984375, 801.5689697265625, 799.1068115234375,
    797.6172485351562, 801.0242919921875], [-801.61669921875, -802.8693237304688,
    -799.6651611328125, -794.6983032226562, -801.3651733398438]], dtype=np.float64)
targets = np.array([1, 2, 0, 2], dtype=np.int64)
dloss = np.array(-1.7514649629592896, dtype=np.float64)
expected = {
    "dlogits": np.array([[-0.022648099234780953, 0.4356171958854625, -0.41096720963907507, -0.0004830764672432696,
    -0.001518810544363193], [-0.0017668582918437732, -0.41740072980204784,
    0.4375293590804425, -0.005571367263848821, -0.01279040372270212], [0.35241442286336777,
    -0.20920997771520244, -0.017835310398419978, -0.004021348259235446,
    -0.12134778649050981], [-0.00042915071435616796, -0.00012263146779840583,
    0.4348452314432922, -0.433741567373532, -0.0005518818876056389]], dtype=np.float64),
}
rtol, atol = 9.19745837535342e-14, 9.19745837535342e-14

got = backend.vjp('cross_entropy', (logits, targets,), {}, (dloss,))
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
