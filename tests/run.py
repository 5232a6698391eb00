"""`make test`'s test step: pick the databases, run pytest, say plainly what was skipped.

PostgreSQL is used when SPEAKUP_TEST_DATABASE_URL is set, or when a server answers on the
default local address. Without one the suite still passes on SQLite, and this prints that the
PostgreSQL variants were skipped. CI sets SPEAKUP_REQUIRE_POSTGRES=1 so that can't happen there.
"""

from __future__ import annotations

import os
import socket
import sys

import pytest

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def main() -> int:
    # Unset: use a local server if one answers. Set but empty: SQLite only, on purpose.
    if "SPEAKUP_TEST_DATABASE_URL" not in os.environ and _answers("127.0.0.1", 5432):
        os.environ["SPEAKUP_TEST_DATABASE_URL"] = DEFAULT_PG
    pg = os.environ.get("SPEAKUP_TEST_DATABASE_URL", "")
    if pg:
        print(f"tests: SQLite and PostgreSQL ({pg.split('@')[-1]})")
    elif os.environ.get("SPEAKUP_REQUIRE_POSTGRES"):
        print("tests: PostgreSQL is required here but not reachable", file=sys.stderr)
        return 1
    else:
        print("tests: SQLite only — no PostgreSQL found; its test variants will be SKIPPED")
    args = sys.argv[1:]
    if not any(a.startswith(("-n", "--numprocesses")) or a == "no:xdist" for a in args):
        # Most tests wait on sockets and subprocesses: two workers halve the wall time even on
        # one core, and each test has a database of its own, so they cannot collide.
        args = ["-n", str(max(2, min(4, os.cpu_count() or 1))), *args]
    code = int(pytest.main(args))
    if not pg:
        print("\nSKIPPED: every PostgreSQL variant (set SPEAKUP_TEST_DATABASE_URL to run them).")
    return code


if __name__ == "__main__":
    sys.exit(main())
