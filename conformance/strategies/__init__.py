"""Hypothesis strategies for nnspec's ops, shared by the spec tests and by users' own tests.

Every strategy draws sizes first and then arrays of consistent shapes; each ``draw`` carries a
``label`` so that a shrunk failure reads well. Import what you need::

    from conformance.strategies import arrays, dense_cases, recurrent_cases

Families live in submodules (``basic`` for values, shapes and layers; ``conv`` for valid
convolution and pooling geometries; ``networks`` for deep networks; ``optim`` for named
parameters and their gradients; ``perceptron`` for neurons and perceptron point sets;
``recurrent`` for sequences; ``window`` for the window classifier;
``losses`` for classification batches) and are re-exported here.
"""

from conformance.strategies.basic import *  # noqa: F403
from conformance.strategies.basic import __all__ as _basic
from conformance.strategies.conv import *  # noqa: F403
from conformance.strategies.conv import __all__ as _conv
from conformance.strategies.language import *  # noqa: F403
from conformance.strategies.language import __all__ as _language
from conformance.strategies.losses import *  # noqa: F403
from conformance.strategies.losses import __all__ as _losses
from conformance.strategies.networks import *  # noqa: F403
from conformance.strategies.networks import __all__ as _networks
from conformance.strategies.ops import *  # noqa: F403
from conformance.strategies.ops import __all__ as _ops
from conformance.strategies.optim import *  # noqa: F403
from conformance.strategies.optim import __all__ as _optim
from conformance.strategies.perceptron import *  # noqa: F403
from conformance.strategies.perceptron import __all__ as _perceptron
from conformance.strategies.recurrent import *  # noqa: F403
from conformance.strategies.recurrent import __all__ as _recurrent
from conformance.strategies.window import *  # noqa: F403
from conformance.strategies.window import __all__ as _window

__all__ = [*_basic, *_conv, *_language, *_losses, *_networks, *_ops, *_optim, *_perceptron,
           *_recurrent, *_window]
