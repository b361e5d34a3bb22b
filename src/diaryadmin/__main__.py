import signal
import sys


def _before_start(signum, _frame):
    """Ctrl-C or SIGTERM while the program is still loading: nothing has been done yet."""
    sys.stderr.write("error: interrupted, nothing changed\n")
    raise SystemExit(143 if signum == signal.SIGTERM else 130)


signal.signal(signal.SIGINT, _before_start)
signal.signal(signal.SIGTERM, _before_start)

from diaryadmin.cli import main  # noqa: E402 - the handlers above cover this slow import

signal.signal(signal.SIGINT, signal.default_int_handler)  # main() handles both from here
try:
    main()
finally:
    # The command has ended and said how: a signal while the interpreter shuts down (the
    # hashing pool's clean-up) must not turn its exit code into a death by SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
