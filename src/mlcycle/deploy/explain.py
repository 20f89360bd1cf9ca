"""Where :mod:`mlcycle.explain` lived until 0.1: models registered by then pickle their explainer under
this name, so the name stays, as an alias of the module, for those champions to keep loading."""

import sys

from mlcycle import explain

sys.modules[__name__] = explain
