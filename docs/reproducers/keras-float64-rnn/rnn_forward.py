"""nnspec reproducer: rnn forward (rnn[forward-golden-01], float64).

Calls the backend directly on the failing case and prints how far each result is from nnspec's
expected values (allowed: rtol=2.8e-14, atol=2.8e-14, that is |got - expected| <= atol·max(1,
max|expected|) + rtol·|expected|), then PASS or FAIL; the exit status is 1 while it fails (for
CI or git bisect run)."""
import numpy as np

from conformance.adapters.keras_backend import KerasBackend

backend = KerasBackend()

x = np.array([[[-0.46836820244789124, 0.4592779576778412, -0.11430063098669052], [0.08041629195213318,
    -0.3504727780818939, 0.3808843791484833]]], dtype=np.float64)
h0 = np.array([[0.43095600605010986, -0.029407808557152748, -0.3948169946670532, 0.9151681065559387],
    [1.0180423259735107, 0.6783570051193237, -0.45411956310272217, 0.25523531436920166]], dtype=np.float64)
w_ih = np.array([[-0.3544422686100006, 0.07705150544643402, -0.10422830283641815], [0.44809019565582275,
    0.09346409887075424, 0.0858464166522026], [0.830258309841156, -0.16544805467128754,
    -0.3713901937007904], [0.08336617797613144, 0.29856008291244507, 1.5052605867385864]], dtype=np.float64)
w_hh = np.array([[0.3493780493736267, -0.17844195663928986, 0.8003044128417969, 1.0227415561676025],
    [0.011333364993333817, 0.013882733881473541, -0.5159615874290466, 0.5113851428031921],
    [0.6264576315879822, 0.4805572032928467, -1.2640239000320435, 0.31227803230285645],
    [0.37198400497436523, 1.2908204793930054, 0.6926445960998535, -0.02403075620532036]], dtype=np.float64)
b_ih = np.array([-0.5598200559616089, 0.06212468072772026, 0.5273638963699341, 0.4097259044647217], dtype=np.float64)
b_hh = np.array([0.16667838394641876, -0.3331190049648285, -0.5959524512290955, -0.38908883929252625], dtype=np.float64)
expected = {
    "out": np.array([[[0.5341900408529658, 0.22454551131965098, 0.5002930090351766, -0.22265766469119574],
    [-0.3417811089819724, 0.14963539355838915, 0.9107965957400711, 0.8916030004015225]]], dtype=np.float64),
    "h_n": np.array([[0.5341900408529658, 0.22454551131965098, 0.5002930090351766, -0.22265766469119574],
    [-0.3417811089819724, 0.14963539355838915, 0.9107965957400711, 0.8916030004015225]], dtype=np.float64),
}
rtol, atol = 2.842170943040401e-14, 2.842170943040401e-14

got = backend.rnn(x, h0, w_ih, w_hh, b_ih, b_hh)
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
