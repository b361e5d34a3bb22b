"""The diary portal's entry point, kept at `diaryadmin.auth` because the portal imports it.

The code lives in `diaryadmin.credentials.auth`; see its docstring for the contract.
"""

from diaryadmin.credentials.auth import (
    MIN_PASSWORD_LENGTH,
    REASONS,
    AuthResult,
    authenticate,
    change_password,
    password_problem,
)

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "REASONS",
    "AuthResult",
    "authenticate",
    "change_password",
    "password_problem",
]
