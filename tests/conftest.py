"""Shared test configuration.

Hypothesis profiles: ``default`` keeps the suite fast enough for CI on two cores and draws
the same examples on every run (a CI result does not depend on the draw); ``thorough``
(HYPOTHESIS_PROFILE=thorough) runs the long, randomised property searches.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "thorough",
    max_examples=3000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
