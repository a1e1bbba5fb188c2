"""PIN hashing: operators' and the technician's PINs are kept only as salted PBKDF2 hashes.

(Not the GPIO pin map: that is ``cfg["pins"]``, read by :mod:`hal.gpio`.)

    >>> h = hash_pin("4821")
    >>> verify_pin("4821", h), verify_pin("1111", h)
    (True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ITERATIONS = 120_000


def hash_pin(pin: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """True when ``pin`` matches ``stored``; a malformed stored value never matches."""
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        got = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)
