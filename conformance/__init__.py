"""nnspec's conformance harness: check any backend against the specification, op by op."""
