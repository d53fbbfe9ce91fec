"""nnspec's reference: readable, vectorised NumPy implementations of the lecture's components.

One module per lecture section; each opens with the section it follows and a Notation block.
Everything computes in float64, takes randomness only through an explicit ``rng`` and refuses bad
input with a ValueError/TypeError that names the argument (see CONVENTIONS in the README).
"""

__version__ = "0.1.0"
SPEC_VERSION = "0.1.0"
"""The version of the specification (claims, conventions, cases) this reference implements."""
