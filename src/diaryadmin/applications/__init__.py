"""Applications for diary access: reading, verification against the roster, issuing, reports."""
