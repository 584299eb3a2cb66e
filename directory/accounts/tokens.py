"""One-time tokens for links sent by e-mail (invitations, password resets).

The link carries a random token; the database keeps only its SHA-256 hash, so a copy of the
database (a backup, a leaked dump) holds no working link. The token has 256 bits of entropy,
so a plain, unsalted hash is enough: nobody can guess one to look up.
"""

from __future__ import annotations

import hashlib
import secrets

# Longer than any token new_token() makes; a longer path segment is not worth hashing.
MAX_TOKEN_LENGTH = 200


def new_token() -> str:
    """A fresh random token for a one-time link (43 URL-safe characters)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The hash stored in place of the token (64 hex characters)."""
    return hashlib.sha256(token.encode()).hexdigest()


def plausible_token(token: str | None) -> bool:
    """Whether a token from a URL is worth looking up at all."""
    return bool(token) and len(token) <= MAX_TOKEN_LENGTH
