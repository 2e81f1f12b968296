"""What handlers can reach: the hub's running parts, stored on the application."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from addon.manager import ProviderManager
from addon.settings import Secret, Settings


@dataclass(slots=True)
class HubContext:
    """The hub's running parts, shared by every handler."""

    settings: Settings
    manager: ProviderManager
    api_token: Secret
    data_dir: Path
    trusted_ingress: tuple[str, ...] = ("172.30.32.2",)
    started_at: float = field(default_factory=time.time)


HUB_CONTEXT: web.AppKey[HubContext] = web.AppKey("hub_context", HubContext)


def hub(request: web.Request) -> HubContext:
    """The hub context of the application serving ``request``."""
    return request.app[HUB_CONTEXT]
