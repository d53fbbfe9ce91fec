"""Helpers of the spec suite, split by concern: oracles (torch comparisons), symbolic (cached SymPy
derivations), claims (the claim report and the README table). Hypothesis strategies are not here:
they live in conformance.strategies, shared with the conformance harness and with users."""
