"""The diary portal's entry point, kept at `diaryadmin.auth` because the portal imports it.

The code lives in `diaryadmin.credentials.auth` (passwords), `.identity` (the parent's own
account) and `.recovery` ("forgot password"); see their docstrings for the contracts.
"""

from diaryadmin.credentials.auth import (
    MIN_PASSWORD_LENGTH,
    REASONS,
    AuthResult,
    authenticate,
    change_password,
    password_problem,
)
from diaryadmin.credentials.identity import IdentityResult, authenticate_identity, link_identity
from diaryadmin.credentials.recovery import (
    Channel,
    EmailChannel,
    RecoveryLetter,
    RecoveryStarted,
    finish_recovery,
    start_recovery,
    wait_for_deliveries,
)

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "REASONS",
    "AuthResult",
    "Channel",
    "EmailChannel",
    "IdentityResult",
    "RecoveryLetter",
    "RecoveryStarted",
    "authenticate",
    "authenticate_identity",
    "change_password",
    "finish_recovery",
    "link_identity",
    "password_problem",
    "start_recovery",
    "wait_for_deliveries",
]
