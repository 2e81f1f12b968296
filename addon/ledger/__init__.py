"""Usage and cost ledger: SQLite rows per attempt, usage reports, retention."""

from addon.ledger.recent import RequestRecord
from addon.ledger.report import LedgerRow, UsageReport, UsageStats, percentile
from addon.ledger.schema import LedgerError
from addon.ledger.store import LEDGER_FILE, Ledger

__all__ = [
    "LEDGER_FILE",
    "Ledger",
    "LedgerError",
    "LedgerRow",
    "RequestRecord",
    "UsageReport",
    "UsageStats",
    "percentile",
]
