"""Class journals: periods, grading, reading and importing, loading, exports and reports."""
