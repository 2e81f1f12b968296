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
CONF_IMAGE_MODEL: Final = "image_model"
CONF_VOICE: Final = "voice"
CONF_SPEED: Final = "speed"
CONF_MAX_TOOL_ITERATIONS: Final = "max_tool_iterations"
CONF_DOWN_MINUTES: Final = "down_minutes"
CONF_BUDGET_WARNING: Final = "budget_warning_percent"

# Subentry types (the names core's AI integrations use, so the frontend labels them).
SUBENTRY_CONVERSATION: Final = "conversation"
SUBENTRY_AI_TASK: Final = "ai_task_data"
SUBENTRY_STT: Final = "stt"
SUBENTRY_TTS: Final = "tts"
DEFAULT_CONVERSATION_NAME: Final = "AI Provider Hub Conversation"
DEFAULT_AI_TASK_NAME: Final = "AI Provider Hub AI Task"
DEFAULT_STT_NAME: Final = "AI Provider Hub STT"
DEFAULT_TTS_NAME: Final = "AI Provider Hub TTS"
# Rounds of "the model asks for tools, Home Assistant runs them" before an answer is due.
DEFAULT_MAX_TOOL_ITERATIONS: Final = 10
MAX_TOOL_ITERATIONS_LIMIT: Final = 50
# Speech speed, as the vendors take it (1: normal).
MIN_SPEED: Final = 0.25
MAX_SPEED: Final = 4.0
# Repairs: a provider down (or its circuit open) this long raises an issue; budgets warn here.
DEFAULT_DOWN_MINUTES: Final = 5
DEFAULT_BUDGET_WARNING: Final = 80
# The caller tags shown per spend sensor (the rest are summed under "other").
MAX_CALLERS: Final = 10

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
EVENT_ALERT: Final = "ai_provider_hub_alert"
SERVICE_ANALYZE_IMAGE: Final = "analyze_image"
SERVICE_CHAT: Final = "chat"
SERVICE_EMBED: Final = "embed"

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
# Embeddings: what one request of the add-on takes.
MAX_EMBED_TEXTS: Final = 2048
MAX_EMBED_DIMENSIONS: Final = 8192
MAX_IMAGE_BYTES: Final = 20 * 1024 * 1024

TAG_PATTERN: Final = r"^[A-Za-z0-9_.:/-]{1,64}\Z"  # the add-on's rule: ASCII only
