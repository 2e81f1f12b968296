"""What handlers can reach: the hub's running parts, stored on the application."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from addon.manager import ProviderManager
from addon.settings import Secret, Settings
from addon.startup import Credentials


@dataclass(frozen=True, slots=True)
class SupervisorLink:
    """How to reach the Supervisor (present only when running as an add-on)."""

    token: str = field(repr=False)
    url: str = "http://supervisor"
    port: int = 8099


@dataclass(slots=True)
class HubContext:
    """The hub's running parts, shared by every handler."""

    settings: Settings
    manager: ProviderManager
    api_token: Secret
    data_dir: Path
    trusted_ingress: tuple[str, ...] = ("172.30.32.2",)
    credentials: Credentials | None = None
    supervisor: SupervisorLink | None = None
    started_at: float = field(default_factory=time.time)

    @property
    def notices(self) -> list[str]:
        """Things the user should know (shown on ``/health``).

        An unreadable store, providers left out or keys ignored because of their settings.
        """
        notices = list(self.settings.problems)
        if self.credentials is not None and self.credentials.notice:
            notices.insert(0, self.credentials.notice)
        running = {provider.name for provider in self.manager.configured()}
        notices += [
            f"Provider {p.name!r} is not running: its SDK refused its settings (see the log)"
            for p in self.settings.providers
            if p.name not in running
        ]
        return notices


HUB_CONTEXT: web.AppKey[HubContext] = web.AppKey("hub_context", HubContext)


def hub(request: web.Request) -> HubContext:
    """The hub context of the application serving ``request``."""
    return request.app[HUB_CONTEXT]
