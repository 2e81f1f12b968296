"""Provider implementations, one module per SDK, imported only when configured."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

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
    """Build the provider for ``settings`` (imports its SDK on first use)."""
    module_name, class_name = PROVIDER_CLASSES[settings.type]
    module = importlib.import_module(module_name)
    provider: Provider = getattr(module, class_name)(settings)
    return provider
