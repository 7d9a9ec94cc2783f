"""The password policy, one rule set for every way a password is set (creation, change, admin reset).

Passwords are never stripped, neither when set nor at sign-in, so what the user typed is what is checked;
a password with leading or trailing spaces is refused when set, because such a space is almost always a
paste accident the user cannot see. Length over composition rules (NIST SP 800-63B §5.1.1.2): at least
:data:`MIN_LENGTH` characters, not one of the most common passwords, not the username.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

MIN_LENGTH = 10
MAX_LENGTH = 256


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list (``common_passwords.txt``, lower case), read once."""
    text = resources.files("liftwatch.accounts").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why ``password`` may not be set (a message for the field ``password``), or None when it is fine."""
    if password != password.strip():
        return "must not begin or end with a space"
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters long"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters long"
    lowered = password.lower()
    if lowered in common_passwords():
        return "is one of the most common passwords; choose a less guessable one"
    if username and lowered == username.strip().lower():
        return "must not be the username"
    return None
