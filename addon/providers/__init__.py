"""Provider implementations, one module per SDK, imported only when configured."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from addon.errors import ConfigError

if TYPE_CHECKING:
    from addon.providers.base import Provider
    from addon.providers.probe import Prober
    from addon.settings import ProviderSettings


def create_provider(settings: ProviderSettings) -> Provider:
    """Build the provider for ``settings`` now (importing its SDK on first use).

    Whatever the SDK's constructor raises becomes a ``ConfigError`` naming the provider, so
    callers can leave that one provider out instead of failing the hub.
    """
    from addon.providers.lazy import PROVIDER_FACTS, build_provider, import_sdk_module

    facts = PROVIDER_FACTS[settings.type]
    module = import_sdk_module(facts.module)
    return build_provider(getattr(module, facts.class_name), settings)


def deferred_provider(settings: ProviderSettings, prober: Prober | None = None) -> Provider:
    """The provider for ``settings``, its SDK imported on its first call (``lazy``).

    The hub builds its configured providers this way: an SDK costs start-up time and memory.
    With a ``prober`` its health checks probe the vendor over HTTP until the SDK is loaded.
    A base URL no SDK could use (it does not parse) is a ``ConfigError`` now, as the SDK's
    constructor would raise; anything else the SDK refuses fails the first call instead.
    """
    from addon.providers.lazy import PROVIDER_FACTS, LazyProvider

    try:
        urlsplit(settings.base_url).port  # noqa: B018 - parsing the port is the check
    except ValueError as err:
        raise ConfigError(
            f"Provider {settings.name!r} cannot be set up with its settings "
            f"(its base URL: {err}; see the log)"
        ) from err
    return LazyProvider(settings, PROVIDER_FACTS[settings.type], prober)
