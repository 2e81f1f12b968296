"""Provider implementations, one module per SDK, imported only when configured."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

from addon.errors import ConfigError, HubError

if TYPE_CHECKING:
    from addon.providers.base import Provider
    from addon.settings import ProviderSettings

# type -> (module, class). Modules are imported lazily: the add-on runs on small machines and
# an SDK nobody configured should cost nothing.
PROVIDER_CLASSES: Final[dict[str, tuple[str, str]]] = {
    "openai": ("addon.providers.openai", "OpenAIProvider"),
    "openai_compatible": ("addon.providers.openai", "OpenAICompatibleProvider"),
    "anthropic": ("addon.providers.anthropic", "AnthropicProvider"),
    "gemini": ("addon.providers.gemini", "GeminiProvider"),
    "ollama": ("addon.providers.ollama", "OllamaProvider"),
}


def create_provider(settings: ProviderSettings) -> Provider:
    """Build the provider for ``settings`` (imports its SDK on first use).

    Whatever the SDK's constructor raises becomes a ``ConfigError`` naming the provider, so
    callers can leave that one provider out instead of failing the hub.
    """
    module_name, class_name = PROVIDER_CLASSES[settings.type]
    module = importlib.import_module(module_name)
    try:
        provider: Provider = getattr(module, class_name)(settings)
    except HubError:
        raise
    except Exception as err:
        raise ConfigError(
            f"Provider {settings.name!r} cannot be set up with its settings "
            f"({type(err).__name__}; see the log)"
        ) from err
    return provider
