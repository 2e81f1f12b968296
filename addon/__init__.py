"""AI Provider Hub: one AI gateway for the whole home."""

__version__ = "0.1.0"
