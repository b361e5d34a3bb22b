"""diaryadmin's benchmark harness: `python -m benchmarks --help`."""
