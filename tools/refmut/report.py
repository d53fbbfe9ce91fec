# ruff: noqa: E501  (a table of source snippets and test names: long lines are its data)
"""Write tools/refmut/RESULTS.md from the runs' JSON files and the review of each survivor.

    python tools/refmut/report.py

results.json, results_core.json, results_batch2.json: every mutant against the reviewed commit
(f231649, the spec as it was); results_after.json: the survivors again, against this branch's
spec (with the tests the review added).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from mutants import MUTANTS  # noqa: E402

# the review of every survivor: (class, why, the test that now kills it or "")
A, B, C = "a", "b", "c"
REVIEW: dict[str, tuple[str, str, str]] = {
    # ---- c: a real gap, closed by a test
    "topo-seqacc-any": (C, "TrainedTopology says sequence_accuracy counts sequences whose "
                        "outputs are ALL right; only a lower threshold was checked",
                        "test_topologies.py::test_the_reversers_accuracies_count_only_the_held_out_sequences"),
    "topo-reverser-test-is-train": (C, "train_reverser's docstring: the accuracies are on "
                                    "sequences never seen in training",
                                    "test_topologies.py::test_the_reversers_accuracies_count_only_the_held_out_sequences"),
    "topo-sent-rng-ignored": (C, "CONVENTIONS: every random thing takes its seed/Generator",
                              "test_topologies.py::test_sentiment_sentences_are_drawn_from_the_given_rng"),
    "topo-steps-bool": (C, "CONVENTIONS errors: steps must be an integer (True is not)",
                        "test_topologies.py::test_bad_input_gets_an_error_naming_function_argument_and_shape[delayed steps bool]"),
    "win-train-rng-ignored": (C, "docstring: random initial values from rng; CONVENTIONS seeds",
                              "test_window.py::test_train_window_scorer_draws_its_initial_values_and_pairs_from_its_rng"),
    "tag-one-template": (C, "toy_tagging_data: each sentence picks one of the two templates "
                         "(with one, position alone would tell the tag)",
                         "test_tagging.py::test_the_data_mix_both_templates_so_no_position_tells_the_tag"),
    "tag-acc-empty": (C, "accuracy's own message says non-empty; CONVENTIONS: never a nan",
                      "test_tagging.py::test_bad_words_tags_and_sizes_get_clear_errors[accuracy of nothing]"),
    "tag-sgd-not-adagrad": (C, "train_tagger's docstring: full-batch Adagrad",
                            "test_tagging.py::test_train_tagger_takes_adagrad_steps"),
    "tcnn-init-fanin": (C, "init_text_cnn's docstring: He-scaled kernels (fan-in d·F)",
                        "test_textcnn.py::test_init_text_cnn_scales_kernels_by_he_over_the_whole_window"),
    "tcnn-init-rng-ignored": (C, "CONVENTIONS: every random thing takes its seed/Generator",
                              "test_textcnn.py::test_init_text_cnn_scales_kernels_by_he_over_the_whole_window (extended)"),
    "lm-init-bias-random": (C, "init_token_rnn's docstring: N(0, scale²) weights, zero biases",
                            "test_language_model.py::test_init_token_rnn_draws_normal_weights_of_its_scale_and_zero_biases"),
    "lm-E-rows-check": (C, "module docstring: K_in = K + 1 for a language model; the check and "
                        "its message exist, only too few rows were tried",
                        "test_language_model.py::test_bad_words_ids_and_parameters_get_clear_errors[E rows, too many]"),
    "loc-baseline-test-mean": (C, "Localizer: the baseline answers the TRAINING images' mean "
                               "centre", "test_localization.py::test_the_baseline_answers_the_training_images_mean_centre"),
    "loc-bar-amplitude": (C, "located_bars' docstring: bars as bars_dataset's (pixels +1)",
                          "test_localization.py::test_the_centre_is_the_mean_of_the_bars_pixels (extended)"),
    "loc-rng-ignored": (C, "CONVENTIONS: every random thing takes its seed/Generator",
                        "test_localization.py::test_located_bars_are_drawn_from_the_given_rng"),
    "loc-outputs-check": (C, "the check and message say exactly 4 outputs; only 3 were tried",
                          "test_localization.py::test_localisation_refuses_bad_input_by_name (extended)"),
    "van-output-activated": (C, "sigmoid_vs_relu's docstring: hidden layers followed by a "
                             "linear output unit", "test_vanishing.py::test_sigmoid_vs_relu_measures_one_network_with_a_linear_output_unit"),
    "char-init-scale": (C, "init_char_rnn's docstring: weights N(0, 0.01²), biases 0",
                        "test_charrnn.py::test_init_char_rnn_is_min_char_rnns_small_normal_weights_and_zero_biases"),
    "graph-pow-zero-check": (C, "0 ** n for n < 1 has no derivative (the error exists; 0 ** 0.5 "
                             "gave inf)", "test_graph.py::test_graph_operations_refuse_bad_input_by_name (0 ** 0.5)"),
    "opt-grads-extra-names": (C, "the message says grads must have the same names as params",
                              "test_optim.py::test_sgd_step_refuses_mismatched_gradients_and_bad_rates (extended)"),
    "pool-l2-zero-window": (C, "l2_pool2d_backward's docstring: 0 where y = 0 (a tiny-denominator "
                            "division turns a large upstream gradient into nan)",
                            "test_pooling.py::test_l2_pool_gradient_is_zero_on_an_all_zero_window_whatever_comes_from_above"),
    "pool-shift-direction": (C, "shift_images' docstring: shift = (down, right)",
                             "test_pooling.py::test_shift_images_moves_every_pixel_down_by_the_first_and_right_by_the_second"),
    "pool-sensitivity-relative": (C, "shift_sensitivity's docstring: mean of ‖Sx − x‖/‖x‖",
                                  "test_pooling.py::test_shift_sensitivity_is_the_mean_relative_change_by_hand"),
    "rnn-forward-view": (C, "as lstm/gru: the caller owns its outputs (docstring now says so); "
                         "writing into the states corrupted BPTT",
                         "test_rnn.py::test_the_caller_owns_the_states_writing_into_them_leaves_bptt_alone"),
    "lstm-forward-view": (C, "lstm_forward: outputs not views into the cache (h_T untested)",
                          "test_lstm.py::test_lstm_leaves_its_inputs_and_cache_alone (extended)"),
    "lstm-subject-forget-bias": (C, "train_subject_lstm's docstring: forget bias +1",
                                 "test_lstm.py::test_train_subject_lstm_starts_from_torchs_uniform_weights_with_forget_bias_one"),
    "gru-reset-before-default": (C, "gru_step's docstring and CONVENTIONS: reset_after=True by "
                                 "default", "test_gru.py::test_reset_before_is_a_different_cell_from_torch_nn_gru (extended)"),
    "gru-forward-view": (C, "gru_forward: outputs not views into the cache (h_T untested)",
                         "test_gru.py::test_gru_step_is_one_step_of_gru_forward_and_nothing_is_modified (extended)"),
    "bp-target-range": (C, "the message says y must lie in [0, 1]; only y > 1 was tried",
                        "test_backprop.py::test_punchline_functions_refuse_bad_input_by_name (y = −0.5)"),
    "perc-no-early-stop": (C, "train_perceptron's docstring: stops after the first epoch "
                           "without a mistake", "test_perceptron.py::test_rosenblatt_rule_converges_within_novikoffs_mistake_bound (extended)"),
    "neu-default-s": (C, "neuron_backward is the gradient of neuron: with the defaults too "
                      "(a forward default changed alone went unseen)",
                      "test_neuron.py::test_neuron_backward_with_its_default_s_is_the_gradient_of_neuron_with_its_default"),
    "ff-xor-output-f": (C, "train_xor's docstring: the output activation is the sigmoid, "
                        "mlp_forward gives P(XOR = 1)",
                        "test_feedforward.py::test_one_hidden_layer_learns_xor_by_gradient_descent (extended)"),
    "cnet-test-is-train": (C, "train_signed_bars' docstring: held out n_test images together "
                           "with their negatives", "test_convnet.py::test_the_signed_bars_held_out_set_is_each_image_and_its_negative"),
    "gc-probe-alias": (C, "numerical_gradient's docstring: each probe perturbs a private copy",
                       "test_gradcheck.py::test_each_probe_is_a_private_copy_even_for_an_f_that_writes_into_its_argument"),
    "gc-directional-h": (C, "directional_derivative's docstring: (f(h) − f(−h))/2h",
                         "test_gradcheck.py::test_directional_derivative_is_the_central_difference"),
    "tol-scale-floor": (C, "tolerance module docstring: scale = max(1, max|expected|)",
                        "test_tolerance.py::test_within_tolerance_is_compares_rule_element_by_element (extended)"),
    # ---- a: equivalent
    "loss-bce-log1p": (A, "log(1 + e^−|z|) for log1p(e^−|z|): e^−|z| ≤ 1, so the two differ by "
                       "at most ~1e-16 absolute; still stable, no claim asks relative accuracy "
                       "of losses below 1e-16, and the tolerance policy's atol floor (scale ≥ 1) "
                       "accepts it", ""),
    # ---- b: behaviour nothing pins down
    "emb-onehot-int": (B, "one_hot's docstring gives values and shape, not a dtype; every "
                       "consumer converts (onehot @ E is float either way). A float64 "
                       "promise could be added to the docstring if wanted", ""),
    "conv-word-channels": (B, "word_channels returning a transposed view of its input: its "
                           "docstring promises no new array (zero_pad's does), nothing writes "
                           "into it; np.ascontiguousarray is for speed", ""),
    "graph-seed-alias": (B, "the root's grad aliasing the caller's seed array: backward never "
                         "writes into the root's grad (the root has no children in its graph), "
                         "so no input changes; only a caller writing into its own seed later "
                         "would see it", ""),
    "ff-layers-shared-arrays": (B, "tent_network's layers 2..k sharing one W/b object: values "
                                "identical, no docstring promise of distinct arrays, nothing in "
                                "the project writes into weights (updates build new arrays)", ""),
}
RENAMED = {"loss-bce-sign": "loss-bce-log1p"}   # the mutant's first name described it wrongly


def load(name: str) -> dict[str, dict[str, object]]:
    path = HERE / name
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {RENAMED.get(k, k): v for k, v in data.items()}


def main() -> None:
    before = {**load("results.json"), **load("results_core.json"), **load("results_batch2.json")}
    after = load("results_after.json")
    order = [RENAMED.get(m["id"], m["id"]) for m in MUTANTS]
    what = {RENAMED.get(m["id"], m["id"]): m["what"] for m in MUTANTS}
    module = {RENAMED.get(m["id"], m["id"]): m["module"] for m in MUTANTS}
    rows, counts = [], Counter()
    for mid in order:
        r = before.get(mid)
        if r is None:
            continue
        status = str(r["status"])
        status = "killed" if status == "error" else status   # collection error = the suite fails
        cls, why, test = REVIEW.get(mid, ("", "", ""))
        if status == "survived":
            counts[f"survived ({cls or '?'})"] += 1
            now = after.get(mid, {}).get("status", "not rerun")
            note = f"{why}. After: {now}"
        else:
            counts["killed"] += 1
            detail = str(r.get("detail", ""))
            note = detail.replace("FAILED ", "").split(" - ")[0][:110]
        rows.append(f"| {module[mid]} | `{mid}`: {what[mid]} | {status} | {cls} | "
                    f"{test} | {note} |")
    total = sum(v for k, v in counts.items())
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    text = f"""# Mutation review of reference/ (hand-chosen mutants)

Reviewed commit: f231649. Script: tools/refmut/refmut.py (one edit at a time in a temporary copy
of the tree, that module's spec test file run with `-x -q -p no:cacheprovider`, default fast
Hypothesis profile, no bytecode or Hypothesis database carried between mutants). Mutants:
tools/refmut/mutants.py. This table: tools/refmut/report.py.

**{total} mutants: {summary}.** Every survivor of class c now fails a test added on this
branch ("After": the survivors rerun against this branch's spec, the whole module test file).

Classes: a = equivalent (no observable difference), b = behaviour no claim, convention or
docstring pins down, c = a real gap (stated behaviour no test checked), closed by the test named.
"killed" for `win-corpus-offcentre` is a collection error of test_window.py (its module-level
corpus cannot be built): the suite fails.

Notes. The first two runs (results.json, results_core.json) copied the worktree before any test
was added, i.e. f231649's spec; batch 2 (results_batch2.json) ran on `git archive f231649`.
One test pins a killed mutant more directly: test_textcnn.py::test_train_text_cnn_takes_adam_steps
(`tcnn-sgd` was already killed, by the behaviour threshold). No survivor revealed a bug in
reference/; the only reference/ edits are two docstrings (rnn_forward: its states are the
caller's own array; train_tagger: its initialisation).

| module | mutant | result | class | test added | why / what killed it |
|---|---|---|---|---|---|
""" + "\n".join(rows) + "\n"
    (HERE / "RESULTS.md").write_text(text, encoding="utf-8")
    print(summary)


if __name__ == "__main__":
    main()
