"""GetRandomPassword: passwords drawn with `secrets` from the character classes asked for."""

from __future__ import annotations

import secrets
import string

from lambdabox.errors import AwsError

PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def random_password(
    length: int,
    exclude: str,
    *,
    numbers: bool,
    punctuation: bool,
    uppercase: bool,
    lowercase: bool,
    space: bool,
    require_each: bool,
) -> str:
    groups = [
        group
        for group, wanted in (
            (string.ascii_lowercase, lowercase),
            (string.ascii_uppercase, uppercase),
            (string.digits, numbers),
            (PUNCTUATION, punctuation),
            (" ", space),
        )
        if wanted
    ]
    groups = [kept for kept in ("".join(c for c in g if c not in exclude) for g in groups) if kept]
    if not groups:
        raise AwsError("InvalidParameterException", "Password must include at least one character type.")
    if require_each and length < len(groups):
        raise AwsError(
            "InvalidParameterException",
            "The password length is too short to include every required character type.",
        )
    alphabet = "".join(groups)
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if not require_each or all(any(c in g for c in password) for g in groups):
            return password
