"""The hub's health alerts: repair issues that raise and clear themselves, and an event.

After every poll the conditions are checked again:
- a provider down or with its circuit open for longer than the entry's ``down_minutes``
  (a timer on Home Assistant's scheduler, so a poll in between does not reset it);
- a provider whose API key the vendor rejected (fixable: set a new key on the add-on);
- a budget (the hub's or a provider's, daily or monthly) past ``budget_warning_percent``,
  and a budget used up.
Each condition that starts raises its issue and fires ``ai_provider_hub_alert`` with
``active: true``; when it ends, the issue goes and the event fires with ``active: false``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later

from .api_models import Budget, BudgetWindow
from .const import (
    CONF_BUDGET_WARNING,
    CONF_DOWN_MINUTES,
    DEFAULT_BUDGET_WARNING,
    DEFAULT_DOWN_MINUTES,
    DOMAIN,
    EVENT_ALERT,
)
from .coordinator import HubConfigEntry, HubCoordinator, HubData

DOWN_STATES: Final = frozenset({"down", "circuit_open"})
KEY_REJECTED: Final = "provider_auth"
WINDOWS: Final = ("daily", "monthly")


@dataclass(frozen=True, slots=True)
class Alert:
    """One active condition: the issue it shows and the facts the event carries."""

    kind: str
    subject: str
    placeholders: dict[str, str] = field(default_factory=dict)
    severity: ir.IssueSeverity = ir.IssueSeverity.WARNING
    fixable: bool = False

    def issue_id(self, entry_id: str) -> str:
        """Unique per hub, kind and subject (provider, budget window)."""
        return f"{entry_id}_{self.kind}_{self.subject}"


class HubAlerts:
    """Watches one hub's polls and keeps its repair issues in step with them."""

    def __init__(self, hass: HomeAssistant, entry: HubConfigEntry, coordinator: HubCoordinator):
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self.active: dict[str, Alert] = {}
        self._down_timers: dict[str, CALLBACK_TYPE] = {}
        self._down_long: set[str] = set()

    @callback
    def async_start(self) -> None:
        """Check now and after every poll; stop (and drop the issues) on unload."""
        self.entry.async_on_unload(self.coordinator.async_add_listener(self.async_check))
        self.entry.async_on_unload(self._async_stop)
        self.async_check()

    @property
    def _down_delay(self) -> timedelta:
        return timedelta(minutes=self.entry.options.get(CONF_DOWN_MINUTES, DEFAULT_DOWN_MINUTES))

    @property
    def _warning_share(self) -> float:
        return float(self.entry.options.get(CONF_BUDGET_WARNING, DEFAULT_BUDGET_WARNING)) / 100

    @callback
    def async_check(self) -> None:
        """Raise the issues of conditions that hold, clear those that no longer do."""
        if not self.coordinator.last_update_success or self.coordinator.data is None:
            return  # a failed poll says nothing about the providers
        data = self.coordinator.data
        self._track_down(data)
        wanted = {
            alert.issue_id(self.entry.entry_id): alert
            for alert in (*self._provider_alerts(data), *self._budget_alerts(data))
        }
        for issue_id in self.active.keys() - wanted.keys():
            self._clear(issue_id)
        registry = ir.async_get(self.hass)
        for issue_id, alert in wanted.items():
            # A finished fix flow deletes its issue: raise it again while the condition holds.
            if self.active.get(issue_id) != alert or not registry.async_get_issue(DOMAIN, issue_id):
                self._raise(issue_id, alert)

    def _track_down(self, data: HubData) -> None:
        """Start a timer for each provider that went down; drop those that came back."""
        down = {p.name for p in data.providers if p.state in DOWN_STATES}
        for name in set(self._down_timers) - down:
            self._down_timers.pop(name)()
        self._down_long &= down
        for name in down - set(self._down_timers) - self._down_long:
            self._down_timers[name] = async_call_later(
                self.hass, self._down_delay, self._down_timer(name)
            )

    def _down_timer(self, name: str) -> Any:
        @callback
        def expired(_now: Any) -> None:
            self._down_timers.pop(name, None)
            self._down_long.add(name)
            self.async_check()

        return expired

    def _provider_alerts(self, data: HubData) -> Iterator[Alert]:
        for provider in data.providers:
            name = provider.name
            if provider.error_key == KEY_REJECTED:
                yield Alert(
                    "key_rejected", name, {"provider": name}, ir.IssueSeverity.ERROR, fixable=True
                )
            elif name in self._down_long:
                minutes = int(self._down_delay.total_seconds() // 60)
                state = provider.state
                yield Alert(
                    "provider_down",
                    name,
                    {"provider": name, "state": state, "minutes": str(minutes)},
                )

    def _budget_alerts(self, data: HubData) -> Iterator[Alert]:
        budget = data.usage.budget if data.usage else Budget()
        scopes: list[tuple[str, Mapping[str, BudgetWindow]]] = [
            ("hub", {"daily": budget.daily, "monthly": budget.monthly})
        ]
        scopes += sorted(budget.providers.items())
        for scope, windows in scopes:
            for window in WINDOWS:
                if alert := self._budget_alert(
                    scope, window, windows.get(window) or BudgetWindow()
                ):
                    yield alert

    def _budget_alert(self, scope: str, window: str, state: BudgetWindow) -> Alert | None:
        limit, spent = state.limit_usd, state.spent_usd
        if limit is None or limit <= 0:
            return None  # no budget, or a zero budget that deliberately allows nothing
        placeholders = {
            "scope": scope,
            "window": window,
            "spent": f"{spent:.2f}",
            "limit": f"{limit:.2f}",
            "percent": str(round(100 * spent / limit)),
        }
        subject = f"{scope}_{window}"
        if spent >= limit:
            return Alert("budget_exhausted", subject, placeholders, ir.IssueSeverity.ERROR)
        if spent >= limit * self._warning_share:
            return Alert("budget_warning", subject, placeholders)
        return None

    def _raise(self, issue_id: str, alert: Alert) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=alert.fixable,
            is_persistent=False,
            severity=alert.severity,
            translation_key=alert.kind,
            translation_placeholders=alert.placeholders,
            data={"entry_id": self.entry.entry_id, **alert.placeholders},
        )
        changed = issue_id in self.active
        self.active[issue_id] = alert
        if not changed:
            self._fire(alert, active=True)

    def _clear(self, issue_id: str) -> None:
        alert = self.active.pop(issue_id)
        ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        self._fire(alert, active=False)

    def _fire(self, alert: Alert, *, active: bool) -> None:
        self.hass.bus.async_fire(
            EVENT_ALERT,
            {
                "config_entry_id": self.entry.entry_id,
                "alert": alert.kind,
                "active": active,
                **alert.placeholders,
            },
        )

    @callback
    def _async_stop(self) -> None:
        for cancel in self._down_timers.values():
            cancel()
        self._down_timers.clear()
        for issue_id in self.active:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        self.active.clear()
