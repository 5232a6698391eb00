"""What an officer's username and password must be, wherever an account is made or changed.

One place for the rules, so `speakup init`, `speakup officer add`, the admin API and the
officer's own activation cannot disagree. Messages never repeat the value refused.
"""

from __future__ import annotations

import re

from cases.errors import InvalidInput

# ASCII letters and digits, then also . _ -: no spaces, no look-alike letters from other
# scripts ("li.triage" with a Cyrillic і would be another account that reads the same).
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_USERNAME = re.compile(USERNAME_PATTERN)
MIN_PASSWORD = 12
MAX_PASSWORD = 1024


def check_username(username: str) -> str:
    """`username` if it is 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit."""
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(
            "username must be 1 to 64 of the characters A-Z, a-z, 0-9, '.', '_' and '-', "
            "starting with a letter or a digit"
        )
    return username


def check_password(password: str) -> str:
    """`password` if it has at least 12 characters that are not all blank."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"password must be at most {MAX_PASSWORD} characters")
    if not password.strip():
        raise InvalidInput("password must not be only spaces")
    return password
