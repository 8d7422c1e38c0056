"""Defaults of the statistical options, in one place: the options dataclasses, the
library functions, the CLI (values and ``--help``) and the config all read them here.

No imports: the CLI reads this module while building ``--help``.
"""

from __future__ import annotations

#: --test
TEST = "bootstrap"
#: --resamples (bootstrap and permutation)
RESAMPLES = 2000
#: --seed
SEED = 0
#: --confidence (significance is at 1 - confidence)
CONFIDENCE = 0.95
#: --horizon (Diebold-Mariano)
HORIZON = 1
