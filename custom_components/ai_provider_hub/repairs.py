"""Fix flow of the "API key rejected" issue: test a new key live, then store it on the add-on."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import TextSelector, TextSelectorConfig, TextSelectorType

from .api import HubApiError
from .compat import vol
from .coordinator import HubConfigEntry

try:
    from homeassistant.components.repairs import (  # type: ignore[attr-defined, unused-ignore]
        RepairsFlowResult,
    )
except ImportError:  # Home Assistant before typed repairs flows
    from homeassistant.data_entry_flow import (  # type: ignore[assignment, unused-ignore]
        FlowResult as RepairsFlowResult,
    )

KEY_SCHEMA: Final = vol.Schema(
    {vol.Required("api_key"): TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))}
)
# What the add-on's live test said -> the form error shown (anything else is stored).
TEST_ERRORS: Final = {
    "invalid": "invalid_key",
    "unreachable": "provider_unreachable",
    "error": "test_failed",
}


class ProviderKeyRepairFlow(RepairsFlow):
    """Ask for the provider's new API key; the issue goes once the add-on uses it."""

    def __init__(self, entry_id: str, provider: str) -> None:
        self._entry_id = entry_id
        self._provider = provider

    async def async_step_init(
        self,
        user_input: dict[str, str] | None = None,  # noqa: ARG002 - Home Assistant's signature
    ) -> RepairsFlowResult:
        """Start with the key form (the flow's init data is the issue, not a key)."""
        return await self.async_step_key()

    async def async_step_key(self, user_input: dict[str, str] | None = None) -> RepairsFlowResult:
        """The key form."""
        entry: HubConfigEntry | None = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await self._async_store(entry, user_input["api_key"].strip())
            if not errors:
                await entry.runtime_data.coordinator.async_request_refresh()
                return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="key",
            data_schema=KEY_SCHEMA,
            description_placeholders={"provider": self._provider},
            errors=errors,
        )

    async def _async_store(self, entry: HubConfigEntry, api_key: str) -> dict[str, str]:
        client = entry.runtime_data.client
        try:
            result, _message = await client.test_provider_key(self._provider, api_key)
            if error := TEST_ERRORS.get(result):
                return {"base": error}
            await client.set_provider_key(self._provider, api_key)
        except HubApiError:
            return {"base": "cannot_connect"}
        return {}


async def async_create_fix_flow(
    hass: HomeAssistant,  # noqa: ARG001 - Home Assistant's signature
    issue_id: str,  # noqa: ARG001 - one fix flow serves the only fixable issue
    data: dict[str, Any] | None,
) -> RepairsFlow:
    """The flow that fixes an issue (only the key issue is fixable)."""
    if data and data.get("entry_id") and data.get("provider"):
        return ProviderKeyRepairFlow(str(data["entry_id"]), str(data["provider"]))
    return ConfirmRepairFlow()
