"""One provider's rolling window of admitted requests, for the rpm and tpm limits."""

from __future__ import annotations

from collections import deque


class Admission:
    """One admitted request inside the window: its request slot and its token count."""

    __slots__ = ("at", "live", "tokens")

    def __init__(self, at: float, tokens: int) -> None:
        self.at = at
        self.tokens = tokens
        self.live = True  # False once it left the window or was refunded


class ProviderWindow:
    """Requests and tokens of one provider in the last ``length`` seconds, plus its counters."""

    __slots__ = ("admissions", "blocked_until", "in_flight", "length", "token_total")

    def __init__(self, length: float) -> None:
        self.length = length
        self.admissions: deque[Admission] = deque()
        self.token_total = 0
        self.in_flight = 0
        self.blocked_until = 0.0  # clock time from the provider's Retry-After

    def prune(self, now: float) -> None:
        """Drop admissions that have left the window at ``now``."""
        horizon = now - self.length
        while self.admissions and self.admissions[0].at <= horizon:
            gone = self.admissions.popleft()
            gone.live = False
            self.token_total -= gone.tokens

    def admit(self, at: float, tokens: int) -> Admission:
        """Count one request of ``tokens`` tokens made at ``at``."""
        admission = Admission(at, tokens)
        self.admissions.append(admission)
        self.token_total += tokens
        return admission

    def settle(self, admission: Admission, actual: int) -> None:
        """Correct ``admission`` to ``actual`` tokens (the total only while it is in the window)."""
        if admission.live:
            self.token_total += actual - admission.tokens
        admission.tokens = actual

    def refund(self, admission: Admission) -> bool:
        """Forget ``admission`` (the call never went out); False if it had already left."""
        if not admission.live:
            return False
        self.admissions.remove(admission)
        self.token_total -= admission.tokens
        admission.live = False
        return True

    def request_slot_in(self, rpm: int, now: float) -> float:
        """Seconds until fewer than ``rpm`` requests are in the window (it is full now)."""
        oldest = self.admissions[len(self.admissions) - rpm]
        return oldest.at + self.length - now

    def tokens_free_in(self, needed: int, now: float) -> float | None:
        """Seconds until ``needed`` tokens leave the window; None if only settling can free them."""
        freed = 0
        for admission in self.admissions:
            freed += admission.tokens
            if freed >= needed:
                return admission.at + self.length - now
        return None
