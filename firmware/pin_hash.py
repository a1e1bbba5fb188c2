"""PIN hashing: operators' and the technician's PINs are kept only as salted PBKDF2 hashes.

(Not the GPIO pin map: that is ``cfg["pins"]``, read by :mod:`hal.gpio`.)

    >>> h = hash_pin("4821")
    >>> verify_pin("4821", h), verify_pin("1111", h)
    (True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

ITERATIONS = 120_000
#: PBKDF2 rounds a stored hash may ask for: fewer is no protection, more freezes whoever checks it
#: (2e9 rounds hold a Pi's core for minutes).
MIN_ITERATIONS = 1_000
MAX_ITERATIONS = 1_000_000
_FORMAT = re.compile(r"pbkdf2_sha256\$(\d{1,10})\$([0-9a-f]{16,128})\$([0-9a-f]{64})")


def hash_problem(stored: str) -> str | None:
    """What is wrong with a stored hash (None: nothing); an empty one means "no PIN" and is fine."""
    if stored == "":
        return None
    m = _FORMAT.fullmatch(stored) if isinstance(stored, str) else None
    if m is None:
        return "not a PIN hash: `deskunit console hash-pin` prints one (pbkdf2_sha256$ROUNDS$SALT$DIGEST)"
    rounds = int(m.group(1))
    if not MIN_ITERATIONS <= rounds <= MAX_ITERATIONS:
        return f"{rounds} PBKDF2 rounds is outside {MIN_ITERATIONS}-{MAX_ITERATIONS}"
    return None


def hash_pin(pin: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """True when ``pin`` matches ``stored``; a malformed stored value (or one asking for too many
    rounds) never matches, and costs nothing."""
    if not stored or hash_problem(stored):
        return False
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        got = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)
