"""Who made a request: the tag the hub's ledger files its cost under.

An explicit tag wins. Otherwise the automation or script whose run made the call (Home
Assistant's trace keeps ``(automation.<id>, run id)`` in a context variable for the whole run,
so it reaches actions, ``conversation.process`` and ``ai_task.generate_data`` alike), and
otherwise the entity that answered (the conversation agent or the AI Task entity).
"""

from __future__ import annotations

import re
from typing import Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.trace import trace_id_get

MAX_TAG_LENGTH: Final = 64
_NOT_TAG: Final = re.compile(r"[^A-Za-z0-9_.:/-]+")  # the add-on takes ASCII tags only
CALLER_DOMAINS: Final = ("automation", "script")


def sanitize_tag(value: str) -> str:
    """``value`` as a valid hub tag: other characters become ``_``, at most 64 of them."""
    return _NOT_TAG.sub("_", value)[:MAX_TAG_LENGTH] or "_"


@callback
def running_caller(hass: HomeAssistant) -> str | None:
    """The entity ID of the automation or script running now, if any.

    The trace names an automation by its configuration ``id`` (its registry unique ID); a
    script by its object ID. Without a registry entry the trace key itself is used.
    """
    trace = trace_id_get()
    if trace is None:
        return None
    key = trace[0]
    domain, _, item_id = key.partition(".")
    if domain not in CALLER_DOMAINS or not item_id:
        return None
    entity_id = er.async_get(hass).async_get_entity_id(domain, domain, item_id)
    return entity_id or key


@callback
def caller_tag(hass: HomeAssistant, explicit: str | None, fallback: str | None) -> str | None:
    """The tag of a request: ``explicit``, else the running automation/script, else ``fallback``."""
    if explicit:
        return explicit
    origin = running_caller(hass) or fallback
    return sanitize_tag(origin) if origin else None
