"""Constants of the AI Provider Hub integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "ai_provider_hub"
DEFAULT_NAME: Final = "AI Provider Hub"
MANUFACTURER: Final = "AI Provider Hub"

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
CONF_TOKEN: Final = "token"  # noqa: S105 - a config key, not a secret
CONF_PROVIDER: Final = "provider"
CONF_MODEL: Final = "model"
CONF_STRATEGY: Final = "strategy"
CONF_TAG: Final = "tag"
CONF_PROMPT: Final = "prompt"

STRATEGIES: Final = (
    "priority",
    "round_robin",
    "weighted",
    "least_loaded",
    "fastest",
    "cost",
    "adaptive",
)
DETAILS: Final = ("low", "high", "auto")

EVENT_RESPONSE: Final = "ai_provider_hub_response"
SERVICE_ANALYZE_IMAGE: Final = "analyze_image"
SERVICE_CHAT: Final = "chat"

UPDATE_INTERVAL: Final = timedelta(seconds=60)
# The window of the per-provider figures (latency, success rate): recent, but long enough
# to hold more than a handful of calls in a quiet home.
USAGE_WINDOW: Final = timedelta(hours=24)
# A provider that answers its health checks but failed more than this share of its calls in
# the usage window (with at least DEGRADED_MIN_REQUESTS calls) is shown as degraded.
DEGRADED_SUCCESS_RATE: Final = 0.9
DEGRADED_MIN_REQUESTS: Final = 5
# Short calls (health, providers, usage) vs generation calls that may fail over between
# providers: the add-on's own request deadline defaults to 120 s, so ours sits above it.
QUICK_TIMEOUT: Final = 15.0
GENERATE_TIMEOUT: Final = 180.0
IMAGE_FETCH_TIMEOUT: Final = 30.0

MAX_IMAGES: Final = 10
MAX_IMAGE_BYTES: Final = 20 * 1024 * 1024

DEFAULT_CONVERSATION_PROMPT: Final = (
    "You are a voice assistant for Home Assistant. Answer briefly and in plain text."
)
