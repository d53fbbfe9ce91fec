"""Hypothesis strategies for nnspec's ops, shared by the spec tests and by users' own tests.

Every strategy draws sizes first and then arrays of consistent shapes; each ``draw`` carries a
``label`` so that a shrunk failure reads well. Import what you need::

    from conformance.strategies import arrays, dense_cases, recurrent_cases

Families live in submodules (``basic`` for values, shapes and layers; ``conv`` for valid
convolution and pooling geometries; ``recurrent`` for sequences) and are re-exported here.
"""

from conformance.strategies.basic import *  # noqa: F403
from conformance.strategies.basic import __all__ as _basic
from conformance.strategies.recurrent import *  # noqa: F403
from conformance.strategies.recurrent import __all__ as _recurrent

__all__ = [*_basic, *_recurrent]
