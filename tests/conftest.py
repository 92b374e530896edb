"""Shared test configuration: hypothesis profiles (derandomized in CI)."""

import math
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)


@pytest.fixture
def logcosh() -> Any:
    """A user primitive, log(cosh(x)), whose partial is written in package functions.

    Made when a test runs, not at import, so the rule-table tests (parametrized over
    ``registered()`` at collection) do not see it.
    """
    import autograd_scalar as ag

    return ag.primitive(
        lambda x: math.log(math.cosh(x)), lambda x: ag.tanh(x), name="logcosh"
    )


@pytest.fixture
def forget_user_primitives() -> Any:
    """Unregister every user primitive a test registers, so none leaks into others
    (the test strategies draw from ``registered()``)."""
    import autograd_scalar as ag

    before = set(ag.registered())
    yield
    for name in set(ag.registered()) - before:
        ag.unregister(name)
