"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), plain, STARTTLS or SSL.

`refuse` names recipients the server rejects with 550 at RCPT, as a real server does for an
unknown mailbox.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Mailbox:
    refuse: set[str] = field(default_factory=set)
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def self_signed_cert(folder: Path) -> tuple[Path, Path] | None:
    """A certificate for 127.0.0.1 made by the openssl tool, or None without it."""
    if shutil.which("openssl") is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    result = subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        capture_output=True,
    )  # fmt: skip
    return (cert, key) if result.returncode == 0 else None


@contextmanager
def smtp_server(refuse=(), security: str = "none", cert: tuple[Path, Path] | None = None):
    """Run a server; yields (mailbox, settings overrides for diaryadmin)."""
    mailbox = Mailbox(refuse=set(refuse))
    port = free_port()
    kwargs = {}
    if security != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert[0]), str(cert[1]))
        if security == "ssl":
            kwargs["ssl_context"] = context
        else:
            kwargs["tls_context"] = context
            kwargs["require_starttls"] = True
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield (
            mailbox,
            {
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "smtp_security": security,
                "smtp_from": "school@example.org",
                "smtp_timeout": 10,
            },
        )
    finally:
        controller.stop()


def env_for(overrides: dict) -> dict[str, str]:
    """The same overrides as DIARYADMIN_* environment variables, for CLI tests."""
    return {f"DIARYADMIN_{key.upper()}": str(value) for key, value in overrides.items()}
