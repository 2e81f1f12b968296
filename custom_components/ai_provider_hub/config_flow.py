"""Config flow: manual URL + token, Supervisor discovery, reauth, reconfigure and options.

A new entry gets one conversation agent, AI Task, speech-to-text and text-to-speech entity
as subentries; more are added (and changed) with the subentry flows in ``subentry_flow``. The
options hold the thresholds of the hub's repairs and alerts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.const import CONF_URL
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .api import (
    HubApiError,
    HubAuthError,
    HubClient,
    HubConnectionError,
    HubTimeoutError,
    normalize_url,
)
from .compat import vol
from .const import (
    CONF_BUDGET_WARNING,
    CONF_DOWN_MINUTES,
    CONF_TOKEN,
    DEFAULT_BUDGET_WARNING,
    DEFAULT_DOWN_MINUTES,
    DEFAULT_NAME,
    DOMAIN,
    SUBENTRY_AI_TASK,
    SUBENTRY_CONVERSATION,
    SUBENTRY_STT,
    SUBENTRY_TTS,
)
from .subentry_flow import HubSubentryFlow, default_subentries

if TYPE_CHECKING:
    from homeassistant.helpers.service_info.hassio import HassioServiceInfo
else:
    try:  # the discovery info's current home (Home Assistant 2025.1+)
        from homeassistant.helpers.service_info.hassio import HassioServiceInfo
    except ImportError:  # older cores
        from homeassistant.components.hassio import HassioServiceInfo

_LOGGER = logging.getLogger(__name__)

URL_SELECTOR: Final = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
TOKEN_SELECTOR: Final = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
CONNECTION_SCHEMA: Final = vol.Schema(
    {vol.Required(CONF_URL): URL_SELECTOR, vol.Required(CONF_TOKEN): TOKEN_SELECTOR}
)
TOKEN_SCHEMA: Final = vol.Schema({vol.Required(CONF_TOKEN): TOKEN_SELECTOR})


def hub_unique_id(url: str) -> str:
    """The hub's identity: host and port of its URL (stable across token changes)."""
    parts = urlsplit(normalize_url(url))
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{(parts.hostname or '').lower()}:{port}"


class HubConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a connection to one hub."""

    VERSION = 2
    MINOR_VERSION = 1

    def __init__(self) -> None:
        self._discovered: dict[str, str] = {}
        self._addon_name = DEFAULT_NAME

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> HubOptionsFlow:  # noqa: ARG004 - Home Assistant's signature
        """The thresholds of the hub's repairs and alerts."""
        return HubOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls,
        config_entry: ConfigEntry,  # noqa: ARG003 - Home Assistant's signature
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Agents, AI Task, speech-to-text and text-to-speech entities, each with its routing."""
        kinds = (SUBENTRY_CONVERSATION, SUBENTRY_AI_TASK, SUBENTRY_STT, SUBENTRY_TTS)
        return dict.fromkeys(kinds, HubSubentryFlow)

    async def _validate_input(self, url: str, token: str) -> dict[str, str]:
        """Check the URL and token against the live hub; return form errors (empty: valid)."""
        try:
            client = HubClient(async_get_clientsession(self.hass), url, token)
        except ValueError:
            return {CONF_URL: "invalid_url"}
        try:
            await client.validate()
        except HubAuthError:
            return {"base": "invalid_auth"}
        except (HubConnectionError, HubTimeoutError):
            return {"base": "cannot_connect"}
        except HubApiError:
            return {"base": "invalid_response"}
        except Exception:
            _LOGGER.exception("Unexpected error while validating the hub connection")
            return {"base": "unknown"}
        return {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A hub not run by the Supervisor: URL and token, checked live."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await self._validate_input(user_input[CONF_URL], user_input[CONF_TOKEN])
            if not errors:
                url = normalize_url(user_input[CONF_URL])
                await self.async_set_unique_id(hub_unique_id(url))
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=DEFAULT_NAME,
                    data={CONF_URL: url, CONF_TOKEN: user_input[CONF_TOKEN]},
                    subentries=default_subentries(),
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(CONNECTION_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_hassio(self, discovery_info: HassioServiceInfo) -> ConfigFlowResult:
        """The add-on announced itself through the Supervisor."""
        config = discovery_info.config
        host, port, token = config.get("host"), config.get("port"), config.get("api_token")
        if not host or not port or not token:
            return self.async_abort(reason="invalid_discovery_info")
        url = f"http://{host}:{port}"
        await self.async_set_unique_id(hub_unique_id(url))
        self._abort_if_unique_id_configured(updates={CONF_URL: url, CONF_TOKEN: token})
        self._discovered = {CONF_URL: url, CONF_TOKEN: str(token)}
        self._addon_name = discovery_info.name or DEFAULT_NAME
        self.context["title_placeholders"] = {"name": self._addon_name}
        return await self.async_step_hassio_confirm()

    async def async_step_hassio_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask the user before adding the discovered hub."""
        errors: dict[str, str] = {}
        if user_input is not None:
            url, token = self._discovered[CONF_URL], self._discovered[CONF_TOKEN]
            errors = await self._validate_input(url, token)
            if not errors:
                return self.async_create_entry(
                    title=self._addon_name, data=self._discovered, subentries=default_subentries()
                )
        return self.async_show_form(
            step_id="hassio_confirm",
            description_placeholders={"addon": self._addon_name},
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:  # noqa: ARG002 - Home Assistant's signature
        """The hub rejected the token."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new token and check it."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await self._validate_input(entry.data[CONF_URL], user_input[CONF_TOKEN])
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_TOKEN: user_input[CONF_TOKEN]}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=TOKEN_SCHEMA,
            description_placeholders={"name": entry.title},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the URL and token of an existing entry."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await self._validate_input(user_input[CONF_URL], user_input[CONF_TOKEN])
            if not errors:
                url = normalize_url(user_input[CONF_URL])
                unique_id = hub_unique_id(url)
                if unique_id != entry.unique_id:
                    await self.async_set_unique_id(unique_id)
                    self._abort_if_unique_id_configured()
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=unique_id,
                    data_updates={CONF_URL: url, CONF_TOKEN: user_input[CONF_TOKEN]},
                )
        suggested = user_input or {CONF_URL: entry.data[CONF_URL]}
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(CONNECTION_SCHEMA, suggested),
            errors=errors,
        )


class HubOptionsFlow(OptionsFlow):
    """When the hub's repairs speak up: a provider down for a while, a budget nearly spent."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form with both thresholds."""
        if user_input is not None:
            return self.async_create_entry(data={k: int(v) for k, v in user_input.items()})
        current = {
            CONF_DOWN_MINUTES: DEFAULT_DOWN_MINUTES,
            CONF_BUDGET_WARNING: DEFAULT_BUDGET_WARNING,
            **self.config_entry.options,
        }
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(OPTIONS_SCHEMA, current),
        )


OPTIONS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_DOWN_MINUTES): NumberSelector(
            NumberSelectorConfig(
                min=1, max=1440, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement="min"
            )
        ),
        vol.Required(CONF_BUDGET_WARNING): NumberSelector(
            NumberSelectorConfig(
                min=1, max=99, step=1, mode=NumberSelectorMode.SLIDER, unit_of_measurement="%"
            )
        ),
    }
)
