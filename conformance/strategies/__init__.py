"""Hypothesis strategies for nnspec's ops, shared by the spec tests and by users' own tests.

Every strategy draws sizes first and then arrays of consistent shapes, float64 with bounded finite
values unless its docstring says otherwise (each docstring states the sizes, value range, dtype and
any guarantee). Draws carry a ``label`` that names, in the source, what they draw; inside
``@composite`` Hypothesis uses the label only internally (for the draw's span in its choice
record) and never prints it. A failing example prints as the drawn value's repr; the case
strategies draw dataclasses, whose repr names every field (``DenseCase(x=array(...), W=...,
b=...)``). Import what you need::

    from conformance.strategies import arrays, dense_cases, recurrent_cases

Families live in submodules and are all re-exported here: ``basic`` (values, shapes, packed
arrays), ``conv`` (convolution and pooling geometries that fit), ``draws`` (where a case's sizes
and values come from, Hypothesis or a seeded ``random.Random``: every op's case builders are
written on it, and property mode searches with it), ``language`` (embedding lookups, output
layers, token-RNN parameters), ``losses`` (classification batches), ``networks`` (dense layers
and deep fully connected networks), ``ops`` (whole conformance cases of a contract op),
``optim`` (named parameters and their gradients), ``perceptron`` (neurons and perceptron point
sets), ``recurrent`` (sequences and gate-stacked weights) and ``window`` (the window classifier).

``op_cases(op)`` draws a ``conformance.cases.Case`` whose ``expected`` and ``expected_grads`` are
None: ``conformance.cases.complete(case)`` fills them in with the NumPy reference (see
``op_cases`` for an example).
"""

from conformance.strategies.basic import *  # noqa: F403
from conformance.strategies.basic import __all__ as _basic
from conformance.strategies.conv import *  # noqa: F403
from conformance.strategies.conv import __all__ as _conv
from conformance.strategies.draws import *  # noqa: F403
from conformance.strategies.draws import __all__ as _draws
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

__all__ = [*_basic, *_conv, *_draws, *_language, *_losses, *_networks, *_ops, *_optim, *_perceptron,
           *_recurrent, *_window]
