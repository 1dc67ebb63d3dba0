"""The console's session cookie and CSRF tokens — nothing kept in the process.

The session cookie holds the API key the user logged in with, sealed with AES-256-GCM under
`FLIGHTDECK_ENCRYPTION_KEY` (`crypto.TokenCipher`, bound to the purpose "console-session"),
with its expiry inside: any API process with the same key can read it, none has to remember
it, and a changed or forged cookie fails to decrypt. The API key itself is checked on every
request exactly as a `Bearer` header is (a revoked key or a disabled user is logged out at once).

CSRF: every form carries a token that is an HMAC of the session cookie (or, for the login form,
of a random pre-login cookie) under a key derived from the same secret. A page of another
origin can neither read the cookie nor the token, and SameSite=Strict keeps the browser from
sending the cookie on a cross-site POST in the first place.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from flightdeck.crypto import CryptoError, TokenCipher
from flightdeck.settings import Settings

SESSION_COOKIE = "fd_console"
LOGIN_COOKIE = "fd_console_login"
SESSION_PURPOSE = "console-session"
SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True)
class ConsoleSession:
    api_key: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(settings: Settings, api_key: str, *, now: float | None = None) -> str:
    expires = int((now or time.time()) + SESSION_SECONDS)
    payload = json.dumps({"k": api_key, "exp": expires})
    return _b64(TokenCipher.from_settings(settings).encrypt(payload, SESSION_PURPOSE))


def unseal(
    settings: Settings, cookie: str | None, *, now: float | None = None
) -> ConsoleSession | None:
    """The session in `cookie`, or None when it is missing, forged, tampered or expired."""
    if not cookie or len(cookie) > 4096:
        return None
    try:
        payload = json.loads(
            TokenCipher.from_settings(settings).decrypt(_unb64(cookie), SESSION_PURPOSE)
        )
        session = ConsoleSession(api_key=str(payload["k"]), expires_at=int(payload["exp"]))
    except (CryptoError, ValueError, KeyError, TypeError):
        return None
    if session.expires_at <= (now or time.time()):
        return None
    return session


def _csrf_key(settings: Settings) -> bytes:
    secret = settings.encryption_key.get_secret_value().encode()
    return hashlib.sha256(b"flightdeck-console-csrf:" + secret).digest()


def csrf_token(settings: Settings, bound_to: str) -> str:
    """The token forms carry, bound to the session cookie (or the pre-login cookie)."""
    return hmac.new(_csrf_key(settings), bound_to.encode(), hashlib.sha256).hexdigest()


def csrf_valid(settings: Settings, bound_to: str | None, token: str | None) -> bool:
    if not bound_to or not token:
        return False
    return hmac.compare_digest(csrf_token(settings, bound_to), token)


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)
