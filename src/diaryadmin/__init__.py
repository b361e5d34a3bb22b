"""diaryadmin: the accounts behind an electronic school diary."""

__version__ = "0.1.0"
