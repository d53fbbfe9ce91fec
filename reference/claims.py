"""The claim registry: every claim and worked example of the lecture, with its ID.

A reader goes from a slide to the reference functions that implement it and to the spec tests
that check it, and back. Spec tests name their claim with ``@pytest.mark.claim("act.sigmoid")``;
a meta-test (spec_tests/test_claims.py) fails when a registered claim lacks a test of one of its
oracle kinds, or when a test names an ID that is not here. The README's claim table is generated
from this registry and the collected tests.

Oracle kinds (as in the project's CLAIMS.md):
    S  slide example, numbers computed by hand, stored in fixtures/   (pytest marker ``slides``)
    Y  gradient or identity derived with SymPy                        (``sympy``)
    T  PyTorch as an independent oracle                               (``torch``)
    H  Hypothesis property                                            (``property``)
    B  behaviour: training converges or fails as the lecture says     (``behaviour``)

Entries whose part has not been made executable yet are ``pending``: the meta-test reports them
without failing. Entries the slides only name, without a method, a formula or an example to check
(an application shown as a picture), are ``mentioned``: they carry the ``reason`` nothing can be
specified, no oracles and no tests, so that they are listed instead of skipped silently.

Besides the lecture's claims the registry holds the conventions the specification decides where
the lecture is silent (CONVENTIONS.md); their IDs start with ``convention.``, and each must have
at least one test of any kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MARKER_OF_ORACLE", "ORACLES", "REGISTRY", "Claim", "claim"]

Oracle = Literal["S", "Y", "T", "H", "B"]
Status = Literal["active", "pending", "mentioned"]

ORACLES: dict[str, str] = {
    "S": "slide example",
    "Y": "SymPy",
    "T": "PyTorch",
    "H": "Hypothesis",
    "B": "behaviour",
}
MARKER_OF_ORACLE: dict[str, str] = {
    "S": "slides", "Y": "sympy", "T": "torch", "H": "property", "B": "behaviour",
}


@dataclass(frozen=True)
class Claim:
    """One claim of the lecture (or one convention of the spec)."""

    id: str
    part: str
    slide: str
    statement: str
    oracles: tuple[Oracle, ...]
    functions: tuple[str, ...]
    status: Status = "active"
    reason: str = ""     # why a "mentioned" entry is not specified


_PART_I = "I. Neural-network basics"
_PART_II = "II. Convolutional networks"
_PART_III = "III. Recurrent networks"
_CONV = "Conventions"


def _c(id: str, part: str, slide: str, statement: str, oracles: str,
       functions: tuple[str, ...] = (), status: Status = "active") -> Claim:
    return Claim(id, part, slide, statement, tuple(oracles.split()),  # type: ignore[arg-type]
                 functions, status)


def _mentioned(id: str, part: str, slide: str, statement: str, reason: str) -> Claim:
    """A statement the slides make without anything to specify: listed, with the reason."""
    return Claim(id, part, slide, statement, (), (), "mentioned", reason)


_CLAIMS: tuple[Claim, ...] = (
    # ---------------------------------------------------------------- Part I
    _c("basics.neuron", _PART_I, "Neural Network Basics",
       "A neuron outputs o = s(Σ w_i x_i + b): the weighted sum plus bias is its activation, "
       "s its activation function.", "S Y H",
       ("reference.neuron.neuron", "reference.neuron.neuron_backward")),
    _c("basics.mcculloch-pitts", _PART_I, "McCulloch-Pitts \"unit\"",
       "A unit computes a_i = g(Σ_j W_ji a_j); the bias is the weight W_0i on a fixed input "
       "a_0 = −1, so the unit fires where Σ_{j≥1} W_ji a_j ≥ W_0i: changing W_0i moves the "
       "threshold.", "S H",
       ("reference.neuron.mcculloch_pitts", "reference.neuron.threshold_location")),
    _c("act.step", _PART_I, "Activation functions",
       "The step (threshold) function is 1 where its input is ≥ 0 and 0 elsewhere.", "S H",
       ("reference.activations.step", "reference.activations.step_grad")),
    _c("act.sigmoid", _PART_I, "Activation functions",
       "σ(x) = 1/(1 + e^−x); σ' = σ(1 − σ); σ' ≤ 1/4 with its maximum at 0.", "Y T H",
       ("reference.activations.sigmoid", "reference.activations.sigmoid_grad")),
    _c("act.tanh", _PART_I, "ReLU Layer (other functions)",
       "tanh is a squashing activation with tanh' = 1 − tanh².", "Y T H",
       ("reference.activations.tanh", "reference.activations.tanh_grad")),
    _c("act.relu", _PART_I, "ReLU (Rectified Linear Units) Layer",
       "ReLU f(x) = max(0, x), the ramp; its derivative is 0 or 1 (0 at x = 0).", "T H",
       ("reference.activations.relu", "reference.activations.relu_grad")),
    _c("ff.example", _PART_I, "Feed forward example",
       "The 2-2-1 network a5 = g(W35·g(W13·a1 + W23·a2) + W45·g(W14·a1 + W24·a2)) is a "
       "parameterised family of functions: changing the weights changes the function.", "S Y T",
       ("reference.feedforward.two_two_one", "reference.feedforward.two_two_one_backward")),
    _c("perceptron.gates", _PART_I, "Expressiveness of perceptrons",
       "A perceptron with a step activation represents AND, OR, NOT and majority.", "S B",
       ("reference.perceptron.GATES", "reference.perceptron.perceptron")),
    _c("perceptron.xor", _PART_I, "Expressiveness of perceptrons",
       "No perceptron represents XOR: no line separates its classes (proved, not only observed "
       "as a failed training run).", "Y B",
       ("reference.perceptron.xor_infeasibility_certificate",
        "reference.perceptron.separability", "reference.perceptron.is_linearly_separable")),
    _c("perceptron.learning", _PART_I, "Expressiveness of perceptrons",
       "Rosenblatt's learning rule converges on linearly separable data and never settles on "
       "XOR.", "B H",
       ("reference.perceptron.train_perceptron",)),
    _c("hidden.xor", _PART_I, "Hidden-Layer",
       "One hidden layer solves XOR: hidden units fire for combinations of the inputs, the output "
       "combines them.", "S B",
       ("reference.feedforward.XOR_NETWORK", "reference.feedforward.train_xor")),
    _c("hidden.universal", _PART_I, "Hidden-Layer",
       "A network with one hidden layer is a universal approximator: it fits a continuous target "
       "to a stated tolerance, better as the hidden layer grows (trained by gradient descent on "
       "sin and |x|, seeds 0-2; and, as a second view, fitted by least squares on random "
       "features).", "B",
       ("reference.feedforward.fit_one_hidden_layer", "reference.feedforward.train_regression")),
    _c("hidden.depth", _PART_I, "Hidden-Layer",
       "Not all functions can be represented efficiently with a single hidden layer, so we still "
       "need deep networks: the tent map composed k times has 2^k linear pieces from 2k ReLU "
       "units in k layers, one hidden layer of H ReLU units has at most H + 1; fitted, a shallow "
       "network needs 8-16 times the deep one's units to come within RMSE 0.05 of t^4 (seeds "
       "0-3).", "Y H B",
       ("reference.feedforward.tent_network", "reference.feedforward.linear_pieces",
        "reference.feedforward.fit_one_hidden_layer")),
    _c("ff.layers", _PART_I, "Feed Forward Neural Networks",
       "Layers are fully connected, of any depth and width chosen by hand; each is "
       "a = f(Wx + b).", "T H",
       ("reference.feedforward.dense", "reference.feedforward.dense_backward",
        "reference.feedforward.mlp_forward", "reference.feedforward.mlp_backward",
        "reference.feedforward.init_mlp")),
    _c("pretrain.layerwise", _PART_I, "Going from Shallow to Deep Neural Networks",
       "Greedy layer-wise pre-training trains layer 1 on unlabelled data, freezes it, trains "
       "layer 2, ...; fine-tuning then trains all layers on labelled data.", "B",
       ("reference.pretrain.pretrain_layerwise", "reference.pretrain.fine_tune",
        "reference.pretrain.train_autoencoder")),
    _c("pretrain.random-init", _PART_I, "Going from Shallow to Deep Neural Networks",
       "\"Initializing the weights randomly and training all layers at once does hardly work\"; "
       "pre-training on unannotated data first does. Measured on a 4-layer sigmoid network with "
       "24 labels: at the same 300 fine-tuning steps pre-training wins on 5 of 5 seeds (0-4; the "
       "spec runs 0-2), held-out accuracy ≥ 0.98 against chance; with 1500 steps random init "
       "reaches ≥ 0.98 as well, so "
       "here pre-training speeds training up rather than making it possible.", "B",
       ("reference.pretrain.pretrain_layerwise", "reference.pretrain.fine_tune")),
    _c("learn.loop", _PART_I, "How to learn the weights",
       "Learning: random initial weights → predict → compare with the truth → error → feed it "
       "back to update the weights.", "B",
       ("reference.optim.gradient_descent",)),
    _c("window.score", _PART_I, "Window classification: s = Uᵀ f(Wx + b)",
       "The window of 5 word vectors (d = 4) is x ∈ R^20 and scores s = Uᵀ f(Wx + b) with "
       "W ∈ R^{8×20}, b ∈ R^8, U ∈ R^8.", "S Y T",
       ("reference.window.window_vector", "reference.window.score")),
    _c("window.margin", _PART_I, "Objective for a single window",
       "J = max(0, Δ + s_c − s) with Δ = 1 asks the true window to win by a margin; "
       "J = max(s_c − s, 0) has no safety margin.", "S Y H",
       ("reference.losses.max_margin", "reference.losses.max_margin_backward",
        "reference.window.objective")),
    _c("window.gradients", _PART_I, "Training with backpropagation",
       "∂s/∂U = f(z); δ = U ∘ f'(z); ∂s/∂W = δxᵀ (an outer product); ∂s/∂b = δ; ∂s/∂x = Wᵀδ, "
       "with f' = f(1 − f) for logistic f; J's gradient is zero where J = 0.", "Y T H",
       ("reference.window.score_backward", "reference.window.objective",
        "reference.window.objective_backward")),
    _c("window.training", _PART_I, "Objective for a single window",
       "Each window with a location at its centre should score +1 higher than any window "
       "without a named entity at its centre: trained with J = max(0, 1 + s_c − s) on a "
       "generated corpus, held-out location windows beat held-out corrupt windows by the margin "
       "in ≥ 99 % of pairs (seeds 0-4) and outscore every one of them.", "B",
       ("reference.window.toy_window_corpus", "reference.window.train_window_scorer",
        "reference.window.window_scores")),
    _c("graph.backprop", _PART_I, "Computation Graphs",
       "A network is a computation graph; backpropagation is the chain rule applied node by node "
       "in reverse topological order.", "Y T H",
       ("reference.graph.Node", "reference.graph.Node.backward",
        "reference.graph.Node.topological_order")),
    _c("gd.loop", _PART_I, "How have we trained before? Gradient Descent!",
       "Gradient descent: predict, compute the loss, its gradient, step opposite the gradient, "
       "iterate.", "B H",
       ("reference.optim.gradient_descent", "reference.optim.sgd_step")),
    _c("backprop.punchline", _PART_I, "Punchline",
       "For the 3-layer sigmoid network ∂J/∂W3 = (ŷ−y)·a3, ∂J/∂W2 = (ŷ−y)·W3·σ'(z3)·a2, "
       "∂J/∂W1 = (ŷ−y)·W3·σ'(z3)·W2·σ'(z2)·X; (ŷ−y) is exact for a sigmoid output with binary "
       "cross-entropy.", "Y T",
       ("reference.backprop.punchline_forward", "reference.backprop.punchline_gradients",
        "reference.backprop.punchline_loss")),
    _c("vanishing.sigmoid", _PART_I, "Vanishing Gradients",
       "σ' ≤ 1/4, so in a deep sigmoid network the gradient shrinks towards the early layers; "
       "ReLU suffers far less.", "Y B",
       ("reference.vanishing.layer_gradient_norms", "reference.vanishing.SIGMOID_GRAD_BOUND",
        "reference.vanishing.sigmoid_vs_relu")),
    # ---------------------------------------------------------------- Part II
    _c("conv.kernel", _PART_II, "Kernel: 3x3 Example",
       "A kernel is a grid of weights laid over the image; the output over the centre pixel is "
       "Σ_p W_p · pixel_p (the Sobel example gives 2).", "S T",
       ("reference.conv.conv2d", "reference.conv.conv2d_backward", "reference.kernels.KERNELS")),
    _c("conv.classic-kernels", _PART_II, "Kernels",
       "Blur, sharpen, edge detection and emboss are kernels.", "S H",
       ("reference.kernels.KERNELS", "reference.kernels.CLASSIC")),
    _c("conv.detectors", _PART_II, "Kernels as Feature Detectors",
       "The vertical-line, horizontal-line and corner detectors respond most to their own "
       "pattern.", "S H", ("reference.kernels.KERNELS", "reference.kernels.DETECTORS")),
    _c("conv.sharing", _PART_II, "Convolutional Neural Nets",
       "The same kernels slide over the whole image: translation equivariance and far fewer "
       "parameters than a fully connected layer.", "H",
       ("reference.conv.conv2d", "reference.conv.conv_parameter_count")),
    _c("conv.grid-size", _PART_II, "Convolution Settings – Grid Size",
       "Kernels need not be square (e.g. 1×3).", "T H", ("reference.conv.conv2d",)),
    _c("conv.padding", _PART_II, "Convolution Settings - Padding",
       "Zero padding lets every pixel be a centre; the slide's 5×5 input and 3×3 kernel without "
       "and with padding.", "S T",
       ("reference.conv.conv2d", "reference.conv.zero_pad", "reference.conv.same_padding")),
    _c("conv.stride", _PART_II, "Convolution Settings: Stride",
       "The stride is the step size, possibly different per axis; stride > 1 shrinks the output; "
       "the slide's stride-2 examples.", "S T", ("reference.conv.conv2d",)),
    _c("conv.depth", _PART_II, "Convolutional Settings - Depth",
       "A kernel spans all input channels (5×5 on RGB = 75 weights); the output depth is the "
       "number of kernels.", "S T H",
       ("reference.conv.conv2d", "reference.conv.conv_parameter_count")),
    _c("conv.output-size", _PART_II, "Details about the convolution layer",
       "Output size (N + 2P − F)/S + 1; 7×7 with F = 3: stride 1 → 5, 2 → 3, 3 → 2.33 doesn't "
       "fit; pad (F − 1)/2 keeps the size; 32×32×3 with ten 5×5 filters, stride 1, pad 2 → "
       "32×32×10; six 5×5 filters → 28×28×6.", "S H",
       ("reference.conv.output_size", "reference.conv.same_padding")),
    _c("conv.fc-cost", _PART_II, "Motivation – Image Data",
       "A fully connected layer on 200×200×3 = 120,000 inputs needs 120,000² = "
       "14,400,000,000 weights.", "S",
       ("reference.conv.image_input_count", "reference.conv.fully_connected_weight_count")),
    _c("pool.max", _PART_II, "Pooling: Max-pool",
       "Max pooling keeps the maximum of each patch; the 2×2 stride-2 example gives "
       "[[6, 8], [3, 4]].", "S T H",
       ("reference.pooling.max_pool2d", "reference.pooling.max_pool2d_backward")),
    _c("pool.avg", _PART_II, "Pooling: Average-pool",
       "Average pooling keeps the mean of each patch.", "S T H",
       ("reference.pooling.avg_pool2d", "reference.pooling.avg_pool2d_backward")),
    _c("pool.l2", _PART_II, "Pooling Layer",
       "L2 pooling keeps the square root of the sum of squares of each patch.", "T H",
       ("reference.pooling.l2_pool2d", "reference.pooling.l2_pool2d_backward")),
    _c("pool.properties", _PART_II, "Pooling Layer",
       "Pooling has no parameters, shrinks each activation map independently and is invariant "
       "to small shifts inside a window.", "H",
       ("reference.pooling.max_pool2d", "reference.pooling.avg_pool2d",
        "reference.pooling.l2_pool2d")),
    _c("convnet.stack", _PART_II, "ConvNet: CONV, RELU, POOL and FC Layers",
       "A ConvNet stacks CONV → RELU → POOL → FC; z_j = f(V * K_j + b_j); ReLU keeps the "
       "receptive fields.", "T B",
       ("reference.convnet.convnet_forward", "reference.convnet.convnet_backward",
        "reference.convnet.train_bars_convnet")),
    # (issue #15: the ConvNet as a sequence, ReLU's nonlinearity, pooling's invariance measured,
    # the applications slides)
    _c("convnet.depth", _PART_II, "A Basic ConvNet",
       "A ConvNet is a sequence of convolutional layers interspersed with activation functions, "
       "of any depth; a unit of conv layer L sees a (1 + L(F − 1)) × (1 + L(F − 1)) patch of the "
       "image, so features are built up from ever larger parts of it.", "T H",
       ("reference.convnet.conv_stack_forward", "reference.convnet.conv_stack_backward",
        "reference.convnet.conv_stack_loss_and_grads", "reference.convnet.init_conv_stack",
        "reference.convnet.receptive_field")),
    _c("convnet.relu-nonlinear", _PART_II, "ReLU (Rectified Linear Units) Layer",
       "ReLU \"increases the nonlinear properties of the decision function\": without it a conv "
       "stack is one affine map of the image (valid-padded, exactly one conv layer with the "
       "composed kernel), which classifies at most 75 % of the bright-or-dark bars task right; "
       "with it the stack learns the task.", "H B",
       ("reference.convnet.linear_stack_kernel", "reference.convnet.signed_bars_dataset",
        "reference.convnet.train_signed_bars")),
    _c("pool.shift", _PART_II, "Pooling Layer",
       "Pooling gives (approximate) invariance to image transformations, measured for a "
       "whole-image shift: one pixel changes 2×2 max- and average-pooled maps of bar images "
       "about half as much as the images; a shift by a whole window is not damped.", "H B",
       ("reference.pooling.shift_images", "reference.pooling.shift_sensitivity")),
    _c("app.localization", _PART_II, "Applications: Localization and Detection",
       "Classification + localisation: a ConvNet with a second, regression head says which way a "
       "bar lies and where its centre is, far better than the mean position.", "T B",
       ("reference.localization.located_bars",
        "reference.localization.localization_loss_and_grads",
        "reference.localization.train_localizer")),
    _mentioned("app.detection", _PART_II, "Applications: Localization and Detection",
               "Object detection (the slides show results of Faster R-CNN, Ren et al. 2015).",
               "Shown only as result pictures: the slides give no method, architecture, loss "
               "or example for detecting several objects (region proposals, box regression, "
               "non-maximum suppression are not in the lecture), so there is nothing to check."),
    _mentioned("app.segmentation", _PART_II, "Applications: Computer Vision Tasks",
               "Instance segmentation is one of the computer-vision tasks.",
               "Named in the tasks picture only: no method, output format or loss is given."),
    # ---------------------------------------------------------------- Part III
    _c("rnn.cell", _PART_III, "Recurrent neural networks",
       "s_t = f(U x_t + W s_{t−1} + b), o_t = softmax(V s_t + c) (b = c = 0 is the slide's cell): "
       "the same parameters at every step, the state passed from step to step.", "Y T H",
       ("reference.rnn.rnn_step", "reference.rnn.rnn_forward", "reference.rnn.rnn_output",
        "reference.rnn.rnn_loss", "reference.rnn.rnn_loss_backward")),
    _c("rnn.topologies", _PART_III, "Topologies of Recurrent Neural Network",
       "One-to-one, one-to-many, many-to-one, many-to-many delayed and synced are compositions "
       "of the same cell.", "H",
       ("reference.topologies.one_to_one", "reference.topologies.one_to_many",
        "reference.topologies.many_to_one", "reference.topologies.many_to_many_delayed",
        "reference.topologies.many_to_many_synced")),
    # (issue #15: the topologies' applications, trained)
    _c("rnn.many-to-one", _PART_III, "Topologies of Recurrent Neural Network (3)",
       "Sentiment classification is many to one: an RNN reads a sentence word by word and "
       "classifies it from its last state, learning a sentiment that only the word order (a "
       "\"not\" right before the word) decides.", "T B",
       ("reference.topologies.sentiment_sentences", "reference.topologies.readout_loss_and_grads",
        "reference.topologies.train_sentiment_rnn")),
    _c("rnn.delayed", _PART_III, "Topologies of Recurrent Neural Network (4)",
       "Machine translation is many to many, delayed: the RNN reads the whole input, then writes "
       "its outputs on zero inputs; trained to reverse short symbol sequences, it reverses "
       "sequences it never saw.", "T B",
       ("reference.topologies.reversal_data", "reference.topologies.readout_loss_and_grads",
        "reference.topologies.train_reverser")),
    _c("rnn.unroll", _PART_III, "Recurrent neural networks (unrolling)",
       "The unrolled network, one layer per step sharing weights, computes the same as the "
       "recurrence.", "T H", ("reference.rnn.rnn_unrolled",)),
    _c("rnn.bptt", _PART_III, "Vanishing and exploding gradients",
       "∂L3/∂W = Σ_{k=0..3} ∂L3/∂o3 · ∂o3/∂s3 · ∂s3/∂s_k · ∂s_k/∂W.", "Y T",
       ("reference.rnn.rnn_backward", "reference.rnn.rnn_step_backward",
        "reference.rnn.bptt_contributions")),
    _c("rnn.vanishing", _PART_III, "Vanishing and exploding gradients",
       "∂s_t/∂s_k is a product of Jacobians: contributions from far steps vanish (or explode).",
       "Y B", ("reference.rnn.state_jacobian", "reference.rnn.bptt_contributions",
               "reference.optim.clip_by_norm")),
    _c("lm.probability", _PART_III, "Language Model",
       "A language model gives p(sentence) = Π p(w_t | w_<t); over a small vocabulary the "
       "probabilities of all sentences of a length sum to 1; trained, it prefers the slide's word "
       "order and word choice.", "H B",
       ("reference.language_model.next_word_probs", "reference.language_model.sentence_log_prob",
        "reference.language_model.sample_sentence",
        "reference.language_model.train_language_model")),
    _c("lm.memory", _PART_III, "Language Models with RNN",
       "Memory scales linearly with the sequence length; the parameters do not grow with it.",
       "H", ("reference.rnn.rnn_forward", "reference.rnn.rnn_backward")),
    _c("charrnn", _PART_III, "No Magic Involved (in Theory)",
       "A character-level RNN language model (the ~112-line one) trained from scratch: its loss "
       "falls from log V, its samples come from the vocabulary.", "B",
       ("reference.charrnn.char_rnn_loss", "reference.charrnn.train_char_rnn",
        "reference.charrnn.sample_chars")),
    _c("lstm.slide", _PART_III, "Long Short Term Memory",
       "i, f, o = σ(x_t U + s_{t−1} W) per gate, g = tanh(...), c_t = c_{t−1}∘f + g∘i, "
       "s_t = tanh(c_t)∘o; over a sequence with BPTT for all parameters, x, h_0 and c_0.",
       "Y T H", ("reference.lstm.lstm_slide_step", "reference.lstm.lstm_step",
                 "reference.lstm.lstm_forward", "reference.lstm.lstm_backward")),
    _c("lstm.concat", _PART_III, "Forget-Gate / Set-Gate",
       "The form with W·[h_{t−1}, x_t] + b equals the slide form with split matrices.", "H",
       ("reference.lstm.lstm_concat_step", "reference.lstm.lstm_step")),
    _c("lstm.gates", _PART_III, "Forget-Gate",
       "A forget gate of 0 lets nothing through and 1 everything; with f = 1, i = 0 the cell "
       "carries its value unchanged over many steps.", "H B", ("reference.lstm.lstm_forward",)),
    # (issue #15: the forget gate's example, learned)
    _c("lstm.forget-subject", _PART_III, "Forget-Gate",
       "\"When we see a new subject, forget gender of old subject\": an LSTM trained to report "
       "the latest subject's gender learns a forget gate that closes at a new subject and "
       "stays open in between.", "B",
       ("reference.lstm.subject_sequences", "reference.lstm.subject_loss_and_grads",
        "reference.lstm.train_subject_lstm")),
    _c("lstm.long-range", _PART_III, "Long-Short-Term Memory (LSTM)",
       "Gating fights vanishing gradients: along the cell path ∂c_T/∂c_0 = Π f_t (exactly so when "
       "the gates do not see the state), and an LSTM learns a dependency a vanilla RNN of the "
       "same size does not (measured on seeds 0-5: the LSTM on 6 of 6, the RNN on 0 of 6; the "
       "spec runs 0-2).", "Y B", ("reference.lstm.lstm_backward",)),
    _c("gru", _PART_III, "Conclusion (LSTMs, GRUs)",
       "The GRU is the other gated RNN.", "T H",
       ("reference.gru.gru_step", "reference.gru.gru_forward", "reference.gru.gru_backward")),
    _c("embedding", _PART_III, "Conclusion (Embeddings)",
       "A word-embedding lookup is one-hot × matrix; its gradient adds into the looked-up rows.",
       "T H", ("reference.embedding.embedding", "reference.embedding.embedding_backward",
               "reference.embedding.one_hot")),
    _c("seq.labelling", _PART_III, "Conclusion (Sequence Labelling)",
       "Sequence labelling with a synced many-to-many RNN (measured on seeds 0-5: every "
       "held-out word tagged right on 6 of 6; the spec runs 0-2).", "B",
       ("reference.tagging.train_tagger", "reference.tagging.tag")),
    _c("cnn.text", _PART_III, "Conclusion (CNNs for text)",
       "CNNs for text: 1-D convolution over word vectors, the kernel covering the whole "
       "embedding.", "T",
       ("reference.conv.conv1d", "reference.conv.conv1d_backward", "reference.conv.word_channels")),
    # (issue #15: the text CNN)
    _c("cnn.text-classifier", _PART_III, "Convolutional Neural Networks (z_j); Conclusion",
       "The text CNN z_j = f(V_{1:n} * K_j + b_j): kernels over windows of whole word vectors, "
       "ReLU, max-over-time pooling and a classifier, trained end to end with the embedding; "
       "windows of two words learn a negation that single words cannot.", "T H B",
       ("reference.textcnn.text_cnn_forward", "reference.textcnn.text_cnn_backward",
        "reference.textcnn.text_cnn_loss_and_grads", "reference.textcnn.train_text_cnn")),
    # ---------------------------------------------------------------- conventions
    _c("convention.float64", _CONV, "CONVENTIONS: Numbers",
       "The reference computes in float64 whatever real dtype it is given.", "",
       ("reference._checks.as_float_array",)),
    _c("convention.seeded", _CONV, "CONVENTIONS: Numbers",
       "Every random thing takes an explicit seed or numpy.random.Generator; no global RNG.", "",
       ("reference._checks.rng_from",)),
    _c("convention.stable", _CONV, "CONVENTIONS: Numbers",
       "sigmoid, softmax, log-softmax and cross-entropy are finite and warning-free for any "
       "finite input, |x| = 1e4 and beyond.", "",
       ("reference.activations.sigmoid", "reference.losses.softmax", "reference.losses.log_softmax",
        "reference.losses.cross_entropy", "reference.losses.binary_cross_entropy_with_logits")),
    _c("convention.step-at-zero", _CONV, "CONVENTIONS: Elementwise",
       "step(0) = 1 (the threshold sits at 0, a bias moves it); the step's gradient is 0.", "",
       ("reference.activations.step",)),
    _c("convention.relu-at-zero", _CONV, "CONVENTIONS: Elementwise",
       "relu'(0) = 0, as in PyTorch and JAX.", "", ("reference.activations.relu_grad",)),
    _c("convention.errors", _CONV, "CONVENTIONS: Errors",
       "Bad input gets a ValueError or TypeError naming the function, the argument, what it got "
       "and what was expected.", "", ("reference._checks",)),
    _c("convention.no-mutation", _CONV, "CONVENTIONS: Errors",
       "Nothing modifies its inputs in place.", "", ("reference._checks.as_float_array",)),
    _c("convention.ce-mean", _CONV, "CONVENTIONS: Losses",
       "cross_entropy over [N, C] logits and integer targets is the mean over N.", "",
       ("reference.losses.cross_entropy",)),
    _c("convention.margin-delta", _CONV, "CONVENTIONS: Losses",
       "The window objective's margin Δ is 1 by default.", "",
       ("reference.losses.max_margin", "reference.window.objective")),
    _c("convention.declared-variants", _CONV, "CONVENTIONS (issue #13: declared conventions)",
       "Where frameworks legitimately differ (the max-pool tie rule: first, last, split; the GRU "
       "reset after or before; step(0) = 1, 0 or ½; relu'(0) and the max margin's kink slope 0, 1 "
       "or ½; cross-entropy mean or sum) the reference computes every variant, the spec's by "
       "default.", "",
       ("reference.pooling.max_pool2d_backward", "reference.gru.gru_forward",
        "reference.activations.step", "reference.activations.relu_grad",
        "reference.losses.max_margin_backward", "reference.losses.cross_entropy")),
    _c("convention.punchline-loss", _CONV, "CONVENTIONS: Losses",
       "(ŷ − y) is exact for a sigmoid output with binary cross-entropy (and for a linear output "
       "with ½‖ŷ − y‖²); with a sigmoid output and squared error it is not.", "",
       ("reference.backprop.punchline_gradients", "reference.backprop.punchline_loss")),
    _c("convention.nchw", _CONV, "CONVENTIONS: Convolution and pooling",
       "Images are NCHW, kernels [K, C, FH, FW], biases [K]; no layout is guessed.", "",
       ("reference.conv.conv2d",)),
    _c("convention.cross-correlation", _CONV, "CONVENTIONS: Convolution and pooling",
       "\"Convolution\" is cross-correlation, without a kernel flip (Sobel = 2, padded top-left "
       "= −1).", "", ("reference.conv.conv2d",)),
    _c("convention.doesnt-fit", _CONV, "CONVENTIONS: Convolution and pooling",
       "A geometry whose (N + 2P − F)/S + 1 is not whole is refused with the arithmetic in the "
       "message, never cropped.", "", ("reference.conv.output_size",)),
    _c("convention.pooling", _CONV, "CONVENTIONS: Convolution and pooling",
       "Pooling has no padding; L2 = √Σx²; average divides by the window size; the max-pool "
       "gradient goes to the first maximum in row-major order.", "",
       ("reference.pooling.max_pool2d_backward", "reference.pooling.l2_pool2d")),
    _c("convention.time-major", _CONV, "CONVENTIONS: Recurrent networks",
       "Sequences are time-major [T, N, D].", "", ("reference.rnn.rnn_forward",)),
    _c("convention.gate-order", _CONV, "CONVENTIONS: Recurrent networks",
       "Stacked gate weights follow PyTorch: LSTM (i, f, g, o), GRU (r, z, n).", "",
       ("reference.lstm.lstm_forward", "reference.gru.gru_forward")),
    _c("convention.gru-reset-after", _CONV, "CONVENTIONS: Recurrent networks",
       "GRU: n = tanh(W_in x + b_in + r ∘ (W_hn h + b_hn)), h' = (1 − z) ∘ n + z ∘ h; "
       "\"reset before\" is a documented variant (reset_after=False).", "",
       ("reference.gru.gru_step", "reference.gru.gru_forward")),
    _c("convention.lstm-bias", _CONV, "CONVENTIONS: Recurrent networks",
       "The slide's LSTM has no biases, the concatenated form has; they agree when biases are "
       "zero.", "", ("reference.lstm.lstm_concat_step", "reference.lstm.lstm_slide_step")),
)

REGISTRY: dict[str, Claim] = {c.id: c for c in _CLAIMS}
if len(REGISTRY) != len(_CLAIMS):  # pragma: no cover - guards an edit of the table above
    raise RuntimeError("reference.claims: duplicate claim IDs")


def claim(id: str) -> Claim:
    """The claim with this ID; KeyError lists the close matches if there is none."""
    try:
        return REGISTRY[id]
    except KeyError:
        close = [k for k in REGISTRY if k.split(".")[0] == id.split(".")[0]]
        raise KeyError(f"unknown claim {id!r}; claims of that family: {close}") from None
