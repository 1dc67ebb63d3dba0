"""Encryption of stored platform credentials (ARCHITECTURE decision 9): AES-256-GCM with the key
from settings. A stored value is `version byte | 12-byte nonce | ciphertext+tag`; its
associated data names the row and purpose (`ad_account:{id}:refresh`), so a ciphertext copied
into another row or column fails to decrypt instead of handing out someone else's token.

    cipher = TokenCipher.from_settings(settings)
    blob = cipher.encrypt(refresh_token, f"ad_account:{account.id}:refresh")
    refresh_token = cipher.decrypt(blob, f"ad_account:{account.id}:refresh")
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from flightdeck.settings import Settings

FORMAT_VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16


class CryptoError(Exception):
    """Base of the errors below; none of them shows a key or a plaintext."""


class InvalidEncryptionKey(CryptoError, ValueError):
    """The configured key is not the base64 of exactly 32 bytes."""


class DecryptionError(CryptoError):
    """A stored value could not be decrypted: wrong key, tampered bytes, or another row's."""


class TokenCipher:
    """AES-256-GCM for secrets at rest, with a fresh random nonce per encryption."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise InvalidEncryptionKey(
                f"the encryption key must be {KEY_BYTES} bytes (AES-256), got {len(key)}"
            )
        self._aead = AESGCM(key)

    @classmethod
    def from_base64(cls, encoded: str) -> TokenCipher:
        """A cipher from the base64 (standard or URL-safe) text of a 32-byte key."""
        text = encoded.strip()
        try:
            key = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidEncryptionKey(
                "FLIGHTDECK_ENCRYPTION_KEY is not valid base64; generate one with "
                "`python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'`"
            ) from None
        return cls(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenCipher:
        return cls.from_base64(settings.encryption_key.get_secret_value())

    def __repr__(self) -> str:
        return "TokenCipher(AES-256-GCM)"

    def encrypt(self, plaintext: str, associated_data: str) -> bytes:
        """The stored form of `plaintext`, bound to `associated_data` (row and purpose)."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), _aad(associated_data))
        return bytes([FORMAT_VERSION]) + nonce + sealed

    def decrypt(self, blob: bytes, associated_data: str) -> str:
        """The plaintext of a value `encrypt` produced with the same associated data."""
        if len(blob) < 1 + NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("the stored value is too short to be a ciphertext")
        if blob[0] != FORMAT_VERSION:
            raise DecryptionError(f"unknown ciphertext format version {blob[0]}")
        nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            plaintext = self._aead.decrypt(nonce, sealed, _aad(associated_data))
        except InvalidTag:
            raise DecryptionError(
                f"cannot decrypt the value stored for {associated_data!r}: wrong key, "
                "tampered data, or a value that belongs to another row"
            ) from None
        return plaintext.decode()


def _aad(associated_data: str) -> bytes:
    # The format version is authenticated too, so a downgraded header cannot pass.
    return b"flightdeck:v%d:" % FORMAT_VERSION + associated_data.encode()
