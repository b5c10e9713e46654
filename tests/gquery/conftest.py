"""Fixtures of the G-Query tests."""

import pytest
from gquery_toy import toy_config


@pytest.fixture
def toy():
    return toy_config()
