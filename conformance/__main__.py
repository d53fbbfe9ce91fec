"""``python -m conformance`` is the ``nnspec`` command."""

import sys

from conformance.cli import main

sys.exit(main())
