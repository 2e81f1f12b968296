"""Fixtures of the routing tests that go through the real API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.addon.routing.api_fixtures import HubFactory, hub_factory
from tests.conftest import Fakes


@pytest.fixture
def make_hub(fakes: Fakes, aiohttp_client: Any, tmp_path: Path) -> HubFactory:
    """Build the real hub over the fakes (``FakeClock`` unless ``real_clock=True``)."""
    return hub_factory(fakes, aiohttp_client, tmp_path)
