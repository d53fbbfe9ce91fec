# ruff: noqa: E501  (a table of source snippets and test names: long lines are its data)
"""The hand-chosen mutants of the review: (id, module, what, old → new), one edit each.

``old`` must occur exactly once in reference/<module>.py; ``tests`` (optional) overrides the test
files run (spec_tests/test_<module>.py by default).
"""

from __future__ import annotations

from typing import Any

MUTANTS: list[dict[str, Any]] = []


def M(id_: str, module: str, what: str, old: str, new: str, tests: list[str] | None = None) -> None:
    MUTANTS.append({"id": id_, "module": module, "what": what, "old": old, "new": new,
                    **({"tests": tests} if tests else {})})


# ---------------------------------------------------------------- topologies
M("topo-read-shifted", "topologies", "synced readout of s_{t+1}.. (the initial state row read)",
  "return softmax(s[:-1] @ V.T + c)", "return softmax(s[1:] @ V.T + c)")
M("topo-many-to-one-first", "topologies", "many_to_one reads the first step, not the last",
  '_synced("many_to_one", x, s0, U, W, b, V, c, f)[-1]',
  '_synced("many_to_one", x, s0, U, W, b, V, c, f)[0]')
M("topo-one-to-one-state", "topologies", "one_to_one from a state of ones, not zeros",
  "x[None], np.zeros((x.shape[0], U.shape[0]))", "x[None], np.ones((x.shape[0], U.shape[0]))")
M("topo-steps-zero", "topologies", "steps = 0 accepted",
  "    if steps < 1:\n        raise fail(func, f\"steps must", "    if steps < 0:\n        raise fail(func, f\"steps must")
M("topo-one-to-many-x-every-step", "topologies", "one_to_many feeds x at every step",
  "inputs[0] = x ", "inputs[:] = x ")
M("topo-delayed-window", "topologies", "delayed outputs one step early",
  'U, W, b, V, c, f)[-steps:]', 'U, W, b, V, c, f)[-steps - 1:-1]')
M("topo-sent-elsewhere", "topologies", "the elsewhere 'not' may land on the sentiment word",
  "elsewhere += 2 * (elsewhere >= where - 1)", "elsewhere += 1 * (elsewhere >= where - 1)")
M("topo-sent-where0", "topologies", "the sentiment word may stand at position 0",
  "where = gen.integers(1, length, n)", "where = gen.integers(0, length, n)")
M("topo-reversal-not-reversed", "topologies", "reversal targets not reversed",
  "return one_hot(ids, symbols), ids[::-1].copy()", "return one_hot(ids, symbols), ids.copy()")
M("topo-init-scale-D", "topologies", "init scale 1/√D instead of 1/√H",
  "gen.uniform(-1.0, 1.0, shape) / np.sqrt(H)", "gen.uniform(-1.0, 1.0, shape) / np.sqrt(D)")
M("topo-readout-first-steps", "topologies", "loss gradient put on the first S steps",
  "ds[T - S:] = ds_read", "ds[:S] = ds_read")
M("topo-seqacc-any", "topologies", "sequence accuracy: any output right",
  "right.all(axis=0).mean()", "right.any(axis=0).mean()")
M("topo-reverser-test-is-train", "topologies", "held-out set = training set",
  "train, test = order[:n_train], order[n_train:]", "train, test = order[:n_train], order[:n_train]")

# ---------------------------------------------------------------- window
M("win-vector-order", "window", "window vector interleaved (feature-major) instead of word order",
  "return words.reshape(*words.shape[:-2], k * d)",
  "return words.swapaxes(-1, -2).reshape(*words.shape[:-2], k * d)")
M("win-score-bias-sign", "window", "z = Wx − b",
  "z = x @ W.T + b          # z = Wx + b", "z = x @ W.T - b          # z = Wx + b")
M("win-delta-f-not-df", "window", "δ = U ∘ f(z) instead of f'(z)",
  "delta = U * act.df(z) ", "delta = U * act.f(z) ")
M("win-dx-no-upstream", "window", "∂s/∂x ignores the upstream gradient",
  "dx = g_delta @ W ", "dx = np.broadcast_to(delta, g_delta.shape) @ W ")
M("win-dU-no-upstream", "window", "∂s/∂U ignores the upstream gradient",
  "dU = g @ a ", "dU = a.sum(axis=0) ")
M("win-obj-dW-corrupt-only", "window", "objective dW from the corrupt window only",
  "true.dW + corrupt.dW,", "corrupt.dW,")
M("win-upstream-check", "window", "grad of a wrong shape not refused by name",
  "    if g.shape not in ((), shape):\n        raise fail(func, f\"grad must be a scalar or have the scores'",
  "    if False:\n        raise fail(func, f\"grad must be a scalar or have the scores'")
M("win-train-sum-not-mean", "window", "training gradient of the sum, not the mean, of J",
  'p["U"], f, delta, 1.0 / n)', 'p["U"], f, delta, 1.0)')
M("win-corpus-offcentre", "window", "window cut one word to the right of its centre",
  "append(ids[i:i + 2 * half + 1])", "append(ids[i + 1:i + 2 * half + 2])")
M("win-no-early-stop", "window", "training does not stop when every pair wins by the margin",
  "result = gradient_descent(loss_and_grads, params, lr=lr, steps=steps,\n                              update=Adagrad(lr).step)",
  "result = gradient_descent(loss_and_grads, params, lr=lr, steps=steps, tol=-1.0,\n                              update=Adagrad(lr).step)")
M("win-init-W-scale", "window", "W ~ N(0, 1) instead of N(0, 1/(k·d))",
  '"W": g.normal(0.0, 1.0 / np.sqrt(k * d), (hidden, k * d))', '"W": g.normal(0.0, 1.0, (hidden, k * d))')

# ---------------------------------------------------------------- embedding
M("emb-scatter-overwrite", "embedding", "repeated ids keep one contribution (dE[ids] += de)",
  "np.add.at(dE, ids, de) ", "dE[ids] += de ")
M("emb-onehot-int", "embedding", "one_hot returns int64",
  "== np.arange(K)).astype(np.float64)", "== np.arange(K)).astype(np.int64)")
M("emb-empty-table", "embedding", "a table with no rows accepted",
  "if E.shape[0] < 1 or E.shape[1] < 1:", "if E.shape[1] < 1:")
M("emb-de-shape-check", "embedding", "de checked for ndim only",
  "if de.shape != (*ids.shape, E.shape[1]):", "if de.ndim != ids.ndim + 1:")
M("emb-dE-float32", "embedding", "dE accumulated in float32",
  "dE = np.zeros_like(E)", "dE = np.zeros_like(E, dtype=np.float32)")

# ---------------------------------------------------------------- tagging
M("tag-one-template", "tagging", "only the first template is generated",
  "tags = np.array(TEMPLATES)[g.integers(0, len(TEMPLATES), n)].T",
  "tags = np.array(TEMPLATES)[g.integers(0, 1, n)].T")
M("tag-argmin", "tagging", "tag is the least probable tag", "return np.argmax(logits, axis=-1)",
  "return np.argmin(logits, axis=-1)")
M("tag-acc-empty", "tagging", "accuracy of empty arrays not refused",
  "if p.shape != t.shape or t.size == 0:", "if p.shape != t.shape:")
M("tag-sgd-not-adagrad", "tagging", "train_tagger uses plain gradient descent, not Adagrad",
  "lr=lr,\n                              steps=steps, update=Adagrad(lr).step)\n    return Tagger",
  "lr=lr,\n                              steps=steps)\n    return Tagger")
M("tag-no-ambiguous-verbs", "tagging", "the ambiguous words are never verbs",
  '_VERB: ("sees", "likes", "chases", *AMBIGUOUS),', '_VERB: ("sees", "likes", "chases"),')

# ---------------------------------------------------------------- textcnn
M("tcnn-no-relu", "textcnn", "no ReLU: z = u", "z = relu(u) ", "z = u ")
M("tcnn-grad-spread", "textcnn", "max-over-time gradient spread evenly (average pooling's)",
  "np.put_along_axis(dz, out.t_max[:, :, None], dm[:, :, None], axis=2)",
  "dz += dm[:, :, None] / dz.shape[2]")
M("tcnn-no-relu-grad", "textcnn", "backward skips ReLU'", "du = dz * relu_grad(out.u)", "du = dz")
M("tcnn-n-equal-F", "textcnn", "sentences exactly as long as a kernel refused",
  'if P["K"].shape[2] > ids.shape[1]:', 'if P["K"].shape[2] >= ids.shape[1]:')
M("tcnn-init-fanin", "textcnn", "kernel init scaled by the width only, not d·F",
  "np.sqrt(2.0 / (d * f))", "np.sqrt(2.0 / f)")
M("tcnn-mean-pool", "textcnn", "forward pools by the mean over time",
  "m = np.take_along_axis(z, t_max[:, :, None], axis=2)[:, :, 0]", "m = z.mean(axis=2)")
M("tcnn-labels-count", "textcnn", "labels of the wrong count not refused",
  "if t.shape[0] != ids.shape[0]:", "if False:")
M("tcnn-sgd", "textcnn", "train_text_cnn with plain gradient descent, not Adam",
  "steps=steps, update=Adam(lr).step)", "steps=steps)")

# ---------------------------------------------------------------- language_model
M("lm-start-is-word0", "language_model", "word 0 read at step 1 instead of <s>",
  "np.full((1, w.shape[1]), start)", "np.full((1, w.shape[1]), 0)")
M("lm-reads-next", "language_model", "step t reads w_{t+1} (the future)",
  "np.full((1, w.shape[1]), start), w[:-1]])", "np.full((1, w.shape[1]), start), w[1:]])")
M("lm-logp-mean", "language_model", "log p(sentence) the mean, not the sum, of the conditionals",
  "total = picked.sum(axis=0)", "total = picked.mean(axis=0)")
M("lm-sample-no-feedback", "language_model", "sampled word not fed back",
  "words[t] = previous = int(g.choice(K, p=o))", "words[t] = int(g.choice(K, p=o))")
M("lm-sample-start0", "language_model", "sampling starts from word 0 instead of <s>",
  'np.zeros((1, p["W"].shape[0])), K ', 'np.zeros((1, p["W"].shape[0])), 0 ')
M("lm-share-per-batch", "language_model", "each length's batch weighted equally",
  "share = w.shape[1] / total", "share = 1.0 / len(batches)")
M("lm-vocab-unsorted", "language_model", "vocabulary in first-seen order, not sorted",
  "return cls(tuple(sorted({w for sentence in sentences for w in sentence.split()})))",
  "return cls(tuple(dict.fromkeys(w for sentence in sentences for w in sentence.split())))")
M("lm-init-bias-random", "language_model", "biases random, not zero",
  '"W": g.normal(0, scale, (H, H)), "b": np.zeros(H),', '"W": g.normal(0, scale, (H, H)), "b": g.normal(0, scale, H),')
M("lm-E-rows-check", "language_model", "an E with more than K + 1 rows accepted",
  "    if p[\"E\"].shape[0] != K + 1:\n        raise fail(func, f\"a language model's E needs K + 1 = {K + 1} rows (the words and <s>)",
  "    if p[\"E\"].shape[0] < K + 1:\n        raise fail(func, f\"a language model's E needs K + 1 = {K + 1} rows (the words and <s>)")
M("lm-dE-into-targets", "language_model", "embedding gradient added into the targets' rows",
  'dE = embedding_backward(dx, ids, p["E"])', 'dE = embedding_backward(dx, targets, p["E"])')

# ---------------------------------------------------------------- pretrain
M("pre-no-freeze-codes", "pretrain", "every layer trained on X, not the frozen codes",
  "codes = dense(codes, ae.W, ae.b, f) ", "codes = codes ")
M("pre-same-seed-per-layer", "pretrain", "every layer initialised from the caller's rng afresh",
  "ae = train_autoencoder(codes, width, gen,", "ae = train_autoencoder(codes, width, rng,")
M("pre-finetune-head-only", "pretrain", "fine-tuning updates the output layer only",
  'grads = {f"W{l}": g.dWs[l] for l in range(L)} | {f"b{l}": g.dbs[l] for l in range(L)}',
  'grads = {f"W{l}": g.dWs[l] * (l == L - 1) for l in range(L)} | {f"b{l}": g.dbs[l] * (l == L - 1) for l in range(L)}')
M("pre-decoder-nonlinear", "pretrain", "decoder uses f, not linear", 'fs = (f, "identity")\n    init',
  'fs = (f, f)\n    init')
M("pre-finetune-count", "pretrain", "targets of the wrong count not refused",
  "if t.shape[0] != X.shape[0]:", "if False:")
M("pre-ae-ascent", "pretrain", "autoencoder steps up the reconstruction error",
  "g = mlp_backward(squared_error_backward(x_hat, X), cache)",
  "g = mlp_backward(squared_error_backward(X, x_hat), cache)")

# ---------------------------------------------------------------- localization
M("loc-bar-length", "localization", "bar ⌊size/2⌋ long instead of ⌈size/2⌉",
  "length = (size + 1) // 2", "length = size // 2")
M("loc-centre-swapped", "localization", "centre given as (column, row)",
  "np.stack([rows.mean(axis=1), cols.mean(axis=1)], axis=1)",
  "np.stack([cols.mean(axis=1), rows.mean(axis=1)], axis=1)")
M("loc-label-swapped", "localization", "label 0 is a horizontal bar",
  "rows = np.where(labels[:, None] == 0, along, across)", "rows = np.where(labels[:, None] == 1, along, across)")
M("loc-baseline-test-mean", "localization", "baseline uses the test images' mean centre",
  "rmse(np.broadcast_to(centre.mean(axis=0), centre_t.shape))",
  "rmse(np.broadcast_to(centre_t.mean(axis=0), centre_t.shape))")
M("loc-bar-amplitude", "localization", "bar pixels +2 instead of +1",
  "V[np.arange(n)[:, None], 0, rows, cols] += 1.0", "V[np.arange(n)[:, None], 0, rows, cols] += 2.0")
M("loc-centre-loss-weight", "localization", "centre loss halved in both loss and gradient",
  "loss = cross_entropy(scores, t) + squared_error(where, y)\n    dout = np.concatenate([cross_entropy_backward(scores, t), squared_error_backward(where, y)],",
  "loss = cross_entropy(scores, t) + 0.5 * squared_error(where, y)\n    dout = np.concatenate([cross_entropy_backward(scores, t), 0.5 * squared_error_backward(where, y)],")

# ---------------------------------------------------------------- vanishing
M("van-bound", "vanishing", "SIGMOID_GRAD_BOUND = 0.3", "SIGMOID_GRAD_BOUND = 0.25", "SIGMOID_GRAD_BOUND = 0.3")
M("van-gain-1", "vanishing", "weights at gain 1 instead of He's √2",
  "gain=float(np.sqrt(2.0))", "gain=1.0")
M("van-output-activated", "vanishing", "the output unit also gets the hidden activation",
  '(f,) * depth + ("identity",)', "(f,) * (depth + 1)")
M("van-norm-l1", "vanishing", "gradient size as the sum of |entries| (not Frobenius)",
  "np.linalg.norm(dW) for dW in grads.dWs", "np.abs(dW).sum() for dW in grads.dWs")
M("van-y-shape", "vanishing", "targets of the wrong shape not refused",
  "if y.shape != a.shape:", "if False:")

# ---------------------------------------------------------------- charrnn
M("char-wrap-early", "charrnn", "start over one chunk early (min-char-rnn's ≥)",
  "if p + seq_length + 1 > len(data):", "if p + seq_length + 1 >= len(data):")
M("char-loss-not-per-char", "charrnn", "losses not divided by seq_length",
  "losses.append(loss / seq_length)", "losses.append(loss)")
M("char-no-clip", "charrnn", "no clipping", "grads, _ = clip_by_norm(grads, max_norm) ",
  "grads = dict(grads) ")
M("char-state-not-reset", "charrnn", "state not reset at the wrap-around",
  "p, s_prev = 0, np.zeros_like(s_prev)", "p = 0")
M("char-sample-no-feedback", "charrnn", "sampled character not fed back",
  "ids[t] = x_id = int(g.choice(K, p=o))", "ids[t] = int(g.choice(K, p=o))")
M("char-init-scale", "charrnn", "U initialised at 0.1 instead of 0.01",
  '{"U": g.normal(0, 0.01, (H, K))', '{"U": g.normal(0, 0.1, (H, K))')
M("char-final-state", "charrnn", "returns the carried-in state, not s_{T−1}",
  "return loss, {\"U\": dU, \"W\": dW, \"V\": dV, \"b\": db, \"c\": dc}, s[-1, 0]",
  "return loss, {\"U\": dU, \"W\": dW, \"V\": dV, \"b\": db, \"c\": dc}, s[-2, 0]")
M("char-sample-state-ignored", "charrnn", "sampling ignores s_prev",
  's = np.zeros(H) if s_prev is None else _state("sample_chars", s_prev, H)',
  's = np.zeros(H) if s_prev is None else 0 * _state("sample_chars", s_prev, H)')

# ---------------------------------------------------------------- graph
M("graph-unbroadcast-mean", "graph", "leading broadcast axes averaged, not summed",
  "grad = grad.sum(axis=0)", "grad = grad.mean(axis=0)")
M("graph-unbroadcast-size1", "graph", "stretched size-1 axes not summed back",
  "if size == 1 and grad.shape[axis] != 1:", "if size == 0 and grad.shape[axis] != 1:")
M("graph-pow-derivative", "graph", "∂uⁿ/∂u = n uⁿ", "self.grad += n * self.value ** (n - 1) * out.grad",
  "self.grad += n * self.value ** n * out.grad")
M("graph-mean-axis", "graph", "mean divides by all elements even along an axis",
  "return total * (total.value.size / max(self.value.size, 1))",
  "return total * (1.0 / max(self.value.size, 1))")
M("graph-no-reset", "graph", "backward does not reset the grads (accumulates across calls)",
  "        for node in order:\n            node.grad = np.zeros_like(node.value)\n",
  "        for node in order:\n            pass\n")
M("graph-seed-alias", "graph", "root grad aliases the caller's seed", "self.grad = seed.copy()",
  "self.grad = seed")
M("graph-log-zero", "graph", "log(0) not refused", "if np.any(self.value <= 0):",
  "if np.any(self.value < 0):")
M("graph-axis-range", "graph", "axis = ndim accepted", "if not -ndim <= ax < ndim:",
  "if not -ndim <= ax <= ndim:")
M("graph-pow-zero-check", "graph", "0 ** n, n < 1, not refused",
  "if n < 1 and np.any(self.value == 0):", "if n < 0 and np.any(self.value == 0):")

# ---------------------------------------------------------------- optim
M("opt-adam-bias-t1", "optim", "Adam's bias correction uses t + 1",
  "m_hat = m / (1.0 - self.beta1 ** self.t)", "m_hat = m / (1.0 - self.beta1 ** (self.t + 1))")
M("opt-adam-eps-inside", "optim", "Adam's ε inside the root", "(np.sqrt(v_hat) + self.eps)",
  "np.sqrt(v_hat + self.eps)")
M("opt-adagrad-eps-outside", "optim", "Adagrad's ε outside the root",
  "g[k] / np.sqrt(m + self.eps)", "g[k] / (np.sqrt(m) + self.eps)")
M("opt-clip-grows", "optim", "clipping also lengthens short gradients",
  "scale = min(1.0, max_norm / norm) if norm > 0 else 1.0", "scale = max_norm / norm if norm > 0 else 1.0")
M("opt-tol-strict", "optim", "stops only below tol", "if loss <= tol:", "if loss < tol:")
M("opt-adam-t-fixed", "optim", "Adam's step count never grows", "self.t += 1", "self.t = 1")
M("opt-global-norm-squared", "optim", "global norm squared",
  "return float(np.sqrt(sum(float(np.sum(np.square(", "return float((sum(float(np.sum(np.square(")
M("opt-adagrad-no-memory", "optim", "Adagrad forgets its accumulated squares",
  "self.memory[k] = m\n", "pass\n")
M("opt-grads-extra-names", "optim", "extra gradient names accepted",
  "if set(grads) != set(params):", "if not set(params) <= set(grads):")
M("opt-no-divergence-check", "optim", "a non-finite loss not reported",
  "if not np.isfinite(loss):", "if False:")
M("opt-adam-beta-one", "optim", "β = 1 accepted", "not 0 <= beta < 1:", "not 0 <= beta <= 1:")

# ================================================================ core modules
# ---------------------------------------------------------------- activations
M("act-step-at-zero", "activations", "step(0) = 0 by default", "def step(x: Any, at_zero: float = 1.0)",
  "def step(x: Any, at_zero: float = 0.0)")
M("act-sigmoid-neg-branch", "activations", "σ for x < 0 written 1/(1+e) too",
  "return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))", "return np.where(x > 0, 1.0 / (1.0 + e), 1.0 / (1.0 + e))")
M("act-sigmoid-grad-factor", "activations", "σ' = σ(1 − σ)·(1 + 1e-9) (a rounding-size slip)",
  "return s * (1.0 - s)", "return s * (1.0 - s) * (1.0 + 1e-9)")
M("act-relu-grad-at-zero", "activations", "relu'(0) = 1 by default",
  "def relu_grad(x: Any, at_zero: float = 0.0)", "def relu_grad(x: Any, at_zero: float = 1.0)")
M("act-identity-alias", "activations", "identity returns its input (an alias)",
  "return np.array(as_float_array(\"identity\", \"x\", x))", "return as_float_array(\"identity\", \"x\", x)")
M("act-tanh-grad", "activations", "tanh' = 1 − tanh·|tanh| (wrong for x < 0)", "return 1.0 - t * t", "return 1.0 - t * np.abs(t)")
M("act-unknown-name-type", "activations", "an unknown activation name gets a KeyError",
  "    if name not in ACTIVATIONS:\n        raise ValueError", "    if False:\n        raise ValueError")
M("act-step-grad-nonzero", "activations", "step' = 1 at 0", "return np.zeros_like(x)\n",
  "return (x == 0).astype(np.float64)\n")

# ---------------------------------------------------------------- losses
M("loss-se-no-half", "losses", "squared error without the ½ (and gradient unchanged)",
  "return float(0.5 * np.sum((y_hat - y) ** 2) / _batch(y.shape))", "return float(np.sum((y_hat - y) ** 2) / _batch(y.shape))")
M("loss-se-batch-all", "losses", "squared error divided by every element, not N",
  "return float(0.5 * np.sum((y_hat - y) ** 2) / _batch(y.shape))", "return float(0.5 * np.sum((y_hat - y) ** 2) / max(y.size, 1))")
M("loss-bce-log1p", "losses", "BCE's log1p(e^−|z|) written log(1 + e^−|z|)", "per_element = np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))",
  "per_element = np.maximum(z, 0.0) - z * y + np.log(1.0 + np.exp(-np.abs(z)))")
M("loss-softmax-no-shift", "losses", "softmax without the max shift",
  "e = np.exp(z - np.max(z, axis=axis, keepdims=True))", "e = np.exp(z)")
M("loss-logsoftmax-axis", "losses", "log_softmax's max taken over the whole array",
  "shifted = z - np.max(z, axis=axis, keepdims=True)", "shifted = z - np.max(z)")
M("loss-ce-sum-default", "losses", "cross-entropy's default reduction is the sum",
  'def cross_entropy(logits: Any, targets: Any, reduction: str = "mean")', 'def cross_entropy(logits: Any, targets: Any, reduction: str = "sum")')
M("loss-ce-backward-no-N", "losses", "cross-entropy gradient without 1/N",
  'return g * dz / z.shape[0] if reduction == "mean" else g * dz', 'return g * dz')
M("loss-margin-delta-neg", "losses", "a negative Δ accepted", "if not np.isfinite(float(delta)) or delta < 0:",
  "if not np.isfinite(float(delta)):")
M("loss-margin-kink", "losses", "the kink's gradient 1 by default", "grad: Any = 1.0, at_kink: float = 0.0",
  "grad: Any = 1.0, at_kink: float = 1.0")
M("loss-margin-grad-shape", "losses", "grad of the wrong shape not refused",
  "    if g.shape not in ((), u.shape):\n        raise fail(func, f\"grad must be a scalar or have J's shape",
  "    if False:\n        raise fail(func, f\"grad must be a scalar or have J's shape")
M("loss-ce-inplace-softmax", "losses", "gradient written into the caller's logits",
  "    dz = softmax(z)\n    dz[np.arange(z.shape[0]), t] -= 1.0",
  "    dz = z\n    dz[...] = softmax(z)\n    dz[np.arange(z.shape[0]), t] -= 1.0")

# ---------------------------------------------------------------- conv
M("conv-outsize-floor", "conv", "a geometry that doesn't fit is cropped, not refused",
  "    if (n + 2 * p - f) % s:\n", "    if False:\n")
M("conv-kernel-larger", "conv", "F > N + 2P not caught first", "    if f > n + 2 * p:\n", "    if f > n + 2 * p + 1:\n")
M("conv-same-padding-even", "conv", "an even F gets F // 2", "    if f % 2 == 0:\n        raise fail(\"same_padding\"",
  "    if False:\n        raise fail(\"same_padding\"")
M("conv-zero-pad-view", "conv", "zero_pad with no padding returns x itself",
  "return _pad(x, nonnegative_pair(\"zero_pad\", \"padding\", padding)).copy()",
  "return _pad(x, nonnegative_pair(\"zero_pad\", \"padding\", padding))")
M("conv-flip", "conv", "true convolution (kernel flipped)", "w_rows = w.reshape(k, -1)                             # row k",
  "w_rows = w[:, :, ::-1, ::-1].reshape(k, -1)                             # row k")
M("conv-bias-twice", "conv", "bias added twice", "y_block += b[:, None, None, None]", "y_block += 2 * b[:, None, None, None]")
M("conv-db-mean", "conv", "∂L/∂b the mean, not the sum", "db = delta.sum(axis=1) ", "db = delta.mean(axis=1) ")
M("conv-param-count-bias", "conv", "the bias counted once per layer, not per kernel",
  "return k * fh * fw * c + (k if bias else 0)", "return k * fh * fw * c + (1 if bias else 0)")
M("conv-fc-count", "conv", "fully connected count without the square",
  "    return inputs * m\n", "    return inputs * m if outputs is not None else inputs\n")
M("conv-word-channels", "conv", "word_channels returns a non-contiguous view",
  "return np.ascontiguousarray(words.transpose(0, 2, 1))", "return words.transpose(0, 2, 1)")
M("conv-1d-stride-ignored", "conv", "conv1d's stride ignored", 's2 = (1, positive_int(func, "stride", stride))',
  's2 = (1, 1 + 0 * positive_int(func, "stride", stride))')
M("conv-dx-dropped-pad", "conv", "backward keeps the padded border's gradient shifted",
  "dx[block] = dxp[:, :, ph:ph + h, pw:pw + wd].transpose(1, 0, 2, 3)",
  "dx[block] = dxp[:, :, :h, :wd].transpose(1, 0, 2, 3)")

# ---------------------------------------------------------------- pooling
M("pool-stride-default-1", "pooling", "stride defaults to 1, not the window",
  "step = kernel if stride is None else positive_pair(func, \"stride\", stride)",
  "step = (1, 1) if stride is None else positive_pair(func, \"stride\", stride)")
M("pool-ties-last", "pooling", "ties go to the last maximum by default",
  "def max_pool2d_backward(dy: Any, x: Any, kernel_size: Any, stride: Any = None,\n                        ties: str = \"first\")",
  "def max_pool2d_backward(dy: Any, x: Any, kernel_size: Any, stride: Any = None,\n                        ties: str = \"last\")")
M("pool-split-no-divide", "pooling", "split ties: each gets the whole gradient",
  "            share = dy_b / _fold(np.add,", "            share = dy_b + 0 * _fold(np.add,")
M("pool-avg-divisor", "pooling", "average divides by KH only", "total /= kh * kw ", "total /= kh ")
M("pool-avg-backward-divisor", "pooling", "average backward without 1/(KH·KW)",
  "share = dy[block] / (kernel[0] * kernel[1])", "share = dy[block] / 1.0")
M("pool-l2-zero-window", "pooling", "an all-zero window's L2 gradient not 0 (nan)",
  "dy_over_y = np.divide(dy, y, out=np.zeros_like(y), where=y > 0)", "dy_over_y = np.divide(dy, np.where(y > 0, y, 1e-300))")
M("pool-overlap-assign", "pooling", "overlapping max-pool windows assign instead of add",
  "                dtap += np.multiply(first, dy_b, out=share)", "                dtap[...] = np.multiply(first, dy_b, out=share)")
M("pool-shift-direction", "pooling", "shift_images moves the other way",
  "    dy, dx = shift\n", "    dx, dy = shift\n")
M("pool-sensitivity-relative", "pooling", "sensitivity not relative to ‖x‖",
  "                             / size))", "                             / 1.0))")

# ---------------------------------------------------------------- rnn
M("rnn-step-no-W", "rnn", "the state does not feed back", "z_t = x_t @ U.T + s_prev @ W.T + b      # z_t",
  "z_t = x_t @ U.T + s_prev @ W + b      # z_t")
M("rnn-forward-view", "rnn", "states returned as a view into the cache", "return s[:-1].copy(), RNNCache(",
  "return s[:-1], RNNCache(")
M("rnn-bptt-no-carry", "rnn", "BPTT drops the carry from step t + 1", "ds[t] + ds_next, x[t], s[t - 1], z[t], U, W, act)",
  "ds[t] + 0 * ds_next, x[t], s[t - 1], z[t], U, W, act)")
M("rnn-loss-mean-over-t", "rnn", "loss the mean over steps, both value and gradient",
  "    return T * cross_entropy(logits.reshape(T * N, -1), y.reshape(-1))",
  "    return cross_entropy(logits.reshape(T * N, -1), y.reshape(-1))")
M("rnn-jacobian-transposed", "rnn", "one-step Jacobian Wᵀ diag(f')",
  "step = act.df(cache.z[j])[:, :, None] * cache.W", "step = act.df(cache.z[j])[:, None, :] * cache.W")
M("rnn-jacobian-order", "rnn", "Jacobian factors multiplied in the wrong order", "        J = step @ J\n", "        J = J @ step\n")
M("rnn-bptt-terms-prev", "rnn", "∂z_k/∂W uses s_k, not s_{k−1}", "dW[k] = delta.T @ cache.s[k - 1]", "dW[k] = delta.T @ cache.s[k]")
M("rnn-k-range", "rnn", "k = −2 accepted", "    if not -1 <= k <= t:", "    if not -2 <= k <= t:")
M("rnn-unrolled-order", "rnn", "unrolled layer: [s, x] against [W U] (the same product) and b·(1 + 1e-12)",
  "return lambda s: dense(np.concatenate([x_t, s], axis=1), UW, b, act.name)",
  "return lambda s: dense(np.concatenate([s, x_t], axis=1), np.concatenate([W, U], axis=1), b * (1 + 1e-12), act.name)")
M("rnn-output-no-c", "rnn", "output layer drops c", "return softmax(s @ V.T + c)                             # o_t",
  "return softmax(s @ V.T + 0 * c)                             # o_t")

# ---------------------------------------------------------------- lstm
M("lstm-slide-forget-c", "lstm", "slide LSTM: c_t = c_{t−1}∘i + g∘f", "c_t = c_prev * f + g * i                        # c_t",
  "c_t = c_prev * i + g * f                        # c_t")
M("lstm-slide-output", "lstm", "slide LSTM: s_t = c_t∘o (no tanh)", "s_t = tanh(c_t) * o                             # s_t",
  "s_t = c_t * o                             # s_t")
M("lstm-concat-order", "lstm", "concatenated form reads [x, h]", "hx = np.concatenate([h_prev, x_t], axis=1)",
  "hx = np.concatenate([x_t, h_prev], axis=1)")
M("lstm-gate-order", "lstm", "stacked gates (i, g, f, o) instead of (i, f, g, o)",
  "    f_t = sigmoid(a[:, H:2 * H])                    # f_t = σ(a_f)\n    C_tilde = tanh(a[:, 2 * H:3 * H])",
  "    f_t = sigmoid(a[:, 2 * H:3 * H])                    # f_t = σ(a_f)\n    C_tilde = tanh(a[:, H:2 * H])")
M("lstm-backward-forget-carry", "lstm", "∂L/∂c_{t−1} not multiplied by f_t", "        dc *= f[t] ", "        dc *= 1.0 ")
M("lstm-forward-view", "lstm", "h_T returned as a view into the cache", "return out.copy(), h_T.copy(), c_T.copy(), cache",
  "return out.copy(), h_T, c_T.copy(), cache")
M("lstm-subject-forget-bias", "lstm", "forget bias not started at +1", 'params["b"][H:2 * H] += 1.0 ', 'params["b"][H:2 * H] += 0.0 ')
M("lstm-subject-gender-first", "lstm", "gender of the first subject, not the latest",
  "last = np.maximum.accumulate(np.where(subject, np.arange(length)[:, None], 0), axis=0)",
  "last = np.zeros_like(np.where(subject, np.arange(length)[:, None], 0))")
M("lstm-subject-new0", "lstm", "step 0 counted as a new subject", "    new[0] = False\n", "    new[0] = True\n")

# ---------------------------------------------------------------- gru
M("gru-interp-swapped", "gru", "h' = z∘n + (1 − z)∘h", "h = (1.0 - z) * n + z * h_prev                  # h_t",
  "h = z * n + (1.0 - z) * h_prev                  # h_t")
M("gru-reset-before-default", "gru", "reset_after default False", "def gru_step(x_t: Any, h_prev: Any, W_ih: Any, W_hh: Any, b_ih: Any, b_hh: Any,\n             reset_after: bool = True)",
  "def gru_step(x_t: Any, h_prev: Any, W_ih: Any, W_hh: Any, b_ih: Any, b_hh: Any,\n             reset_after: bool = False)")
M("gru-reset-on-bias", "gru", "reset-after: r multiplies W_hn h but not b_hn",
  "n = tanh(xg[:, 2 * H:] + r * hn)            # n", "n = tanh(xg[:, 2 * H:] + r * (hn - b_hh[2 * H:]) + b_hh[2 * H:])            # n")
M("gru-forward-view", "gru", "h_T returned as a view", "return h[1:].copy(), h[T].copy(), cache", "return h[1:].copy(), h[T], cache")
M("gru-dz-sign", "gru", "∂L/∂z = dh∘(n − h_{t−1})", "dz = dh * (h_prev - n[t])", "dz = dh * (n[t] - h_prev)")
M("gru-flag-type", "gru", "a non-bool reset_after accepted", "    if not isinstance(reset_after, (bool, np.bool_)):",
  "    if False:")

# ---------------------------------------------------------------- backprop (punchline)
M("bp-dW3-no-error", "backprop", "∂J/∂W3 from ŷ, not (ŷ − y)", "dW3 = error.T @ a3 ", "dW3 = _rows(fwd.y_hat).T @ a3 ")
M("bp-sigma-prime-z2", "backprop", "σ'(z3) used at layer 2", "back2 = (back3 @ W2) * sigmoid_grad(z2)", "back2 = (back3 @ W2) * sigmoid_grad(z3[:, :z2.shape[1]] if z3.shape[1] >= z2.shape[1] else z2)")
M("bp-loss-mean", "backprop", "sigmoid punchline loss the mean, not the sum",
  "return binary_cross_entropy_with_logits(fwd.z4, y) * fwd.z4.size", "return binary_cross_entropy_with_logits(fwd.z4, y)")
M("bp-target-range", "backprop", "targets outside [0, 1] accepted for the sigmoid output",
  'if output == "sigmoid" and np.any((y < 0) | (y > 1)):', 'if output == "sigmoid" and np.any((y < -1) | (y > 1)):')
M("bp-identity-output", "backprop", "identity output squashed too", 'y_hat = sigmoid(z4) if out == "sigmoid" else z4',
  "y_hat = sigmoid(z4)")

# ---------------------------------------------------------------- perceptron
M("perc-threshold-strict", "perceptron", "training predicts 1 only above 0", "y_hat = 1.0 if X[n] @ w + b >= 0 else 0.0",
  "y_hat = 1.0 if X[n] @ w + b > 0 else 0.0")
M("perc-bias-not-updated", "perceptron", "the bias never learns", "b = b + lr * (y[n] - y_hat) ", "b = b + 0 * (y[n] - y_hat) ")
M("perc-no-shuffle", "perceptron", "examples always in the same order", "for n in gen.permutation(X.shape[0]):",
  "for n in range(X.shape[0]):")
M("perc-no-early-stop", "perceptron", "training continues after an epoch without mistakes",
  "        if wrong == 0:\n            break\n", "        if wrong < 0:\n            break\n")
M("perc-binary-order", "perceptron", "binary inputs with the low bit first",
  "codes = np.arange(2 ** n)[:, None] >> np.arange(n - 1, -1, -1)", "codes = np.arange(2 ** n)[:, None] >> np.arange(n)")
M("perc-labels-01", "perceptron", "labels other than 0/1 accepted", "if not np.all((y == 0) | (y == 1)):",
  "if not np.all((y >= 0) & (y <= 1)):")

# ---------------------------------------------------------------- neuron
M("neu-bias-input", "neuron", "a_0 = +1", "BIAS_INPUT = -1.0", "BIAS_INPUT = 1.0")
M("neu-db-first", "neuron", "∂L/∂b from the first example only", "db = float(np.sum(delta))", "db = float(np.ravel(delta)[0])")
M("neu-threshold-sign", "neuron", "threshold location −W0 w/‖w‖²", "return W0 * w / norm2 ", "return -W0 * w / norm2 ")
M("neu-dw-batch", "neuron", "∂L/∂w averaged over the batch", "dw = delta @ x if x.ndim == 2 else delta * x",
  "dw = delta @ x / len(x) if x.ndim == 2 else delta * x")
M("neu-default-s", "neuron", "neuron's default activation tanh (neuron_backward's stays sigmoid)", 'def neuron(x: Any, w: Any, b: Any, s: str = "sigmoid")',
  'def neuron(x: Any, w: Any, b: Any, s: str = "tanh")')

# ---------------------------------------------------------------- feedforward
M("ff-dW-transposed-delta", "feedforward", "dense_backward ∂L/∂b the mean", "db = delta.sum(axis=0)   # ∂L/∂b", "db = delta.mean(axis=0)   # ∂L/∂b")
M("ff-221-bias", "feedforward", "2-2-1 network ignores b5", "a5 = act.f(W.W35 * a3 + W.W45 * a4 + W.b5)", "a5 = act.f(W.W35 * a3 + W.W45 * a4)")
M("ff-221-back-W45", "feedforward", "δ4 through W35", "d4 = d5 * W.W45 * act.df(in4)", "d4 = d5 * W.W35 * act.df(in4)")
M("ff-init-fanout", "feedforward", "init scaled by fan-out", "gen.normal(0.0, gain / np.sqrt(d), (m, d))", "gen.normal(0.0, gain / np.sqrt(m), (m, d))")
M("ff-mlp-last-act", "feedforward", "mlp_backward reuses the last layer's f'", "delta = da * activation(\"mlp_backward\", f).df(z)",
  "delta = da * activation(\"mlp_backward\", cache.fs[-1]).df(z)")
M("ff-xor-network", "feedforward", "XOR's AND unit threshold 0.5", "bs=_frozen(np.array([-0.5, -1.5]), np.array([-0.5])),",
  "bs=_frozen(np.array([-0.5, -0.5]), np.array([-0.5])),")
M("ff-fit-centres", "feedforward", "random-feature units switch at 0, not at samples",
  'b1 = -np.einsum("hd,hd->h", W1, centres)', 'b1 = 0 * np.einsum("hd,hd->h", W1, centres)')
M("ff-tent-slope", "feedforward", "the tent's second unit at x − 1/4", "first = (np.array([[1.0], [1.0]]), np.array([0.0, -0.5]))",
  "first = (np.array([[1.0], [1.0]]), np.array([0.0, -0.25]))")
M("ff-layers-shared-arrays", "feedforward", "tent layers share one array", "return Network(tuple(W.copy() for W, _ in layers), tuple(b.copy() for _, b in layers),",
  "return Network(tuple(W for W, _ in layers), tuple(b for _, b in layers),")
M("ff-xor-output-f", "feedforward", "train_xor's network reads with an identity output", '(p["b1"], p["b2"]), (f, "sigmoid")),',
  '(p["b1"], p["b2"]), (f, "identity")),')
M("ff-regression-sgd", "feedforward", "train_regression with plain gradient descent", "update=Adam(lr).step)                          # 4. and 5.",
  ")                          # 4. and 5.")

# ---------------------------------------------------------------- kernels
M("ker-gauss-scale", "kernels", "gaussian blur /8", '"gaussian_blur": _kernel([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 16.0)',
  '"gaussian_blur": _kernel([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 15.0)')
M("ker-sharpen-centre", "kernels", "sharpen centre 4", '"sharpen": _kernel([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])',
  '"sharpen": _kernel([[0, -1, 0], [-1, 4, -1], [0, -1, 0]])')
M("ker-writable", "kernels", "kernels writable", "    k.flags.writeable = False\n", "")
M("ker-corner", "kernels", "corner detector's last entry +1", '"corner": _kernel([[-1, -1, -1], [-1, 1, 1], [-1, 1, -1]])',
  '"corner": _kernel([[-1, -1, -1], [-1, 1, 1], [-1, 1, 1]])')
M("ker-emboss", "kernels", "emboss centre 0", '"emboss": _kernel([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])',
  '"emboss": _kernel([[-2, -1, 0], [-1, 0, 1], [0, 1, 2]])')

# ---------------------------------------------------------------- convnet
M("cnet-no-relu-grad", "convnet", "backward skips ReLU'", "dz = da * relu_grad(out.z) ", "dz = da ")
M("cnet-init-fanin", "convnet", "kernel init by F² only", '"K": gen.normal(0.0, np.sqrt(2.0 / (c * f * f)), (j, c, f, f)),',
  '"K": gen.normal(0.0, np.sqrt(2.0 / (f * f)), (j, c, f, f)),')
M("cnet-bars-length", "convnet", "bar ⌊size/2⌋ long", "    length = (size + 1) // 2\n    labels = gen.integers(0, 2, n)\n    line = gen.integers(0, size, n)                 #",
  "    length = size // 2\n    labels = gen.integers(0, 2, n)\n    line = gen.integers(0, size, n)                 #")
M("cnet-receptive", "convnet", "receptive field L·F", "return 1 + L * (positive_int(\"receptive_field\", \"kernel_size\", kernel_size) - 1)",
  "return L * positive_int(\"receptive_field\", \"kernel_size\", kernel_size)")
M("cnet-stack-act-grad", "convnet", "stack backward uses relu' whatever f", "dz = da * act.df(out.z[l - 1]) ",
  "dz = da * relu_grad(out.z[l - 1]) ")
M("cnet-signed-sign", "convnet", "signed bars all positive", "sign = np.where(gen.integers(0, 2, n) == 1, 1.0, -1.0)",
  "sign = np.where(gen.integers(0, 2, n) == 1, 1.0, 1.0)")
M("cnet-linear-kernel-bias", "convnet", "composed bias ignores the first layer's bias",
  'K, b = full.transpose(1, 0, 2, 3), b2 + np.einsum("kmpq,m->k", K2, b)', 'K, b = full.transpose(1, 0, 2, 3), b2 + 0 * np.einsum("kmpq,m->k", K2, b)')
M("cnet-test-is-train", "convnet", "signed bars' test set not mirrored", "V_test, labels_test = np.concatenate([V_test, -V_test]), np.tile(labels_test, 2)",
  "V_test, labels_test = np.concatenate([V_test, V_test]), np.tile(labels_test, 2)")

# ---------------------------------------------------------------- gradcheck
M("gc-one-sided", "gradcheck", "forward difference, not central", "grad[i] = (up - down) / (2.0 * h)",
  "grad[i] = (up - float(f(probe.copy()))) / h")
M("gc-probe-alias", "gradcheck", "f gets the probe itself (may change it)", "up = float(f(probe.copy()))", "up = float(f(probe))")
M("gc-check-first-only", "gradcheck", "only the first analytic gradient is checked",
  "    for name, grad in analytic.items():\n", "    for name, grad in list(analytic.items())[:1]:\n")
M("gc-unknown-names", "gradcheck", "unknown analytic names ignored", "    if unknown:\n        raise ValueError(f\"check_gradients",
  "    if False:\n        raise ValueError(f\"check_gradients")
M("gc-directional-h", "gradcheck", "directional derivative off by a factor 1 + 1e-3", "return (float(f(h)) - float(f(-h))) / (2.0 * h)",
  "return (float(f(h)) - float(f(-h))) / (2.0 * h) * (1 + 1e-3)")

# ---------------------------------------------------------------- tolerance
M("tol-gradient-factor", "tolerance", "gradient tolerance ×1", "* depth * (4.0 if gradient else 1.0)", "* depth * (1.0 if gradient else 1.0)")
M("tol-scale-floor", "tolerance", "atol scaled by max|e| even below 1", "scale = max(1.0, float(finite_e.max()))",
  "scale = float(finite_e.max())")
M("tol-inf-agrees-nan", "tolerance", "nan agrees with nan", "diff = np.where(np.isnan(diff), np.inf, diff)",
  "diff = np.where(np.isnan(diff), np.where(np.isnan(a) & np.isnan(e), 0.0, np.inf), diff)")
M("tol-compare-strict", "tolerance", "compare needs diff < allowed", "ok=bool((diff <= allowed).all()),", "ok=bool((diff < allowed).all()),")
M("tol-terms-sqrt", "tolerance", "rtol grows with terms, not √terms", "(1.0 + math.sqrt(terms))", "(1.0 + terms)")
M("tol-bad-terms", "tolerance", "terms = 0 accepted", "if terms < 1 or depth < 1:", "if terms < 0 or depth < 1:")

# ================================================================ batch 2: inputs written in place, the caller's rng
# ignored, validations removed (newer modules)
M("opt-sgd-inplace", "optim", "sgd_step updates the caller's arrays in place",
  "    return {k: p[k] - lr * g[k] for k in p}", "    for k in p:\n        p[k] -= lr * g[k]\n    return p")
M("opt-adagrad-inplace", "optim", "Adagrad writes the step into the caller's arrays",
  "            new[k] = p[k] - self.lr * g[k] / np.sqrt(m + self.eps)",
  "            p[k] -= self.lr * g[k] / np.sqrt(m + self.eps)\n            new[k] = p[k]")
M("opt-clip-inplace", "optim", "clipping rescales the caller's gradients in place",
  "    return {k: v * scale for k, v in g.items()}, norm", "    for v in g.values():\n        v *= scale\n    return g, norm")
M("win-train-rng-ignored", "window", "train_window_scorer ignores the caller's rng", "    g = rng_from(func, rng)\n    k = true.shape[1]",
  "    g = rng_from(func, 0)\n    k = true.shape[1]")
M("win-pair-shape-check", "window", "x and x_c of different shapes not refused", "    if x.shape != x_c.shape:\n",
  "    if x.shape[-1] != x_c.shape[-1]:\n")
M("topo-sent-rng-ignored", "topologies", "sentiment_sentences ignores its rng", "    gen = rng_from(func, rng)\n    n, length = positive_int",
  "    gen = rng_from(func, 0)\n    n, length = positive_int")
M("topo-steps-bool", "topologies", "steps=True accepted as 1", "    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):",
  "    if not isinstance(steps, (int, np.integer)):")
M("loc-rng-ignored", "localization", "located_bars ignores its rng", "    gen = rng_from(func, rng)\n    n, size = positive_int",
  "    gen = rng_from(func, 0)\n    n, size = positive_int")
M("loc-outputs-check", "localization", "a network without 4 outputs not refused",
  "    if out.logits.shape[1] != 4:\n", "    if out.logits.shape[1] < 4:\n")
M("lm-sample-rng-ignored", "language_model", "sample_sentence ignores its rng", 'g = rng_from("sample_sentence", rng)',
  'g = rng_from("sample_sentence", 0)')
M("char-sample-rng-ignored", "charrnn", "sample_chars ignores its rng", 'g = rng_from("sample_chars", rng)',
  'g = rng_from("sample_chars", 0)')
M("char-short-text", "charrnn", "a text shorter than seq_length + 1 not refused", "    if len(text) < seq_length + 1:\n",
  "    if len(text) < 2:\n")
M("tag-rng-ignored", "tagging", "toy_tagging_data ignores its rng", 'g = rng_from("toy_tagging_data", rng)',
  'g = rng_from("toy_tagging_data", 0)')
M("tcnn-init-rng-ignored", "textcnn", "init_text_cnn ignores its rng", "    gen = rng_from(func, rng)\n    vocab, d =",
  "    gen = rng_from(func, 0)\n    vocab, d =")
M("pre-head-rng-ignored", "pretrain", "fine_tune's output layer ignores the caller's rng",
  'head = init_mlp((width, classes), "identity", rng)', 'head = init_mlp((width, classes), "identity", 0)')
M("emb-backward-inplace-de", "embedding", "embedding_backward zeroes the caller's de after using it",
  "    dE = np.zeros_like(E)\n", "    dE = np.zeros_like(E)\n    np.add.at(dE, ids, de)\n    de[...] = 0.0\n    return dE\n")
M("emb-backward-de-into-E", "embedding", "embedding_backward accumulates into E itself",
  "    dE = np.zeros_like(E)\n", "    dE = E\n    dE[...] = 0.0\n")
