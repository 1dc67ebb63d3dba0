"""TokenCipher: AES-256-GCM round trips, a fresh nonce each time, associated data that pins a
ciphertext to its row, tamper detection, clear errors for bad keys, and no key in a repr."""

from __future__ import annotations

import base64
import os

import pytest
from pydantic import SecretStr

from flightdeck.crypto import (
    FORMAT_VERSION,
    NONCE_BYTES,
    DecryptionError,
    InvalidEncryptionKey,
    TokenCipher,
)
from flightdeck.settings import Settings

KEY = os.urandom(32)
TOKEN = "reddit-refresh-token-do-not-leak"


@pytest.fixture
def cipher() -> TokenCipher:
    return TokenCipher(KEY)


def test_round_trip_and_layout(cipher: TokenCipher) -> None:
    blob = cipher.encrypt(TOKEN, "ad_account:1:refresh")
    assert blob[0] == FORMAT_VERSION
    assert len(blob) == 1 + NONCE_BYTES + len(TOKEN) + 16
    assert TOKEN.encode() not in blob
    assert cipher.decrypt(blob, "ad_account:1:refresh") == TOKEN


def test_every_encryption_uses_a_fresh_nonce(cipher: TokenCipher) -> None:
    first, second = (cipher.encrypt(TOKEN, "ctx") for _ in range(2))
    assert first[1 : 1 + NONCE_BYTES] != second[1 : 1 + NONCE_BYTES]
    assert first != second


@pytest.mark.parametrize("other", ["ad_account:2:refresh", "ad_account:1:access"])
def test_a_ciphertext_cannot_move_to_another_row_or_purpose(
    cipher: TokenCipher, other: str
) -> None:
    blob = cipher.encrypt(TOKEN, "ad_account:1:refresh")
    with pytest.raises(DecryptionError) as caught:
        cipher.decrypt(blob, other)
    assert TOKEN not in str(caught.value)


def test_tampering_and_the_wrong_key_are_detected(cipher: TokenCipher) -> None:
    blob = bytearray(cipher.encrypt(TOKEN, "ctx"))
    blob[-1] ^= 1
    with pytest.raises(DecryptionError):
        cipher.decrypt(bytes(blob), "ctx")
    with pytest.raises(DecryptionError):
        TokenCipher(os.urandom(32)).decrypt(cipher.encrypt(TOKEN, "ctx"), "ctx")


def test_truncated_or_unknown_versions_are_refused(cipher: TokenCipher) -> None:
    blob = cipher.encrypt(TOKEN, "ctx")
    with pytest.raises(DecryptionError, match="too short"):
        cipher.decrypt(blob[:10], "ctx")
    with pytest.raises(DecryptionError, match="version 9"):
        cipher.decrypt(bytes([9]) + blob[1:], "ctx")


def test_from_settings_accepts_standard_and_urlsafe_base64() -> None:
    raw = bytes(range(250, 256)) * 5 + b"\xfb\xff"  # bytes whose base64 has + and /
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        settings = Settings(encryption_key=SecretStr(encoded))
        cipher = TokenCipher.from_settings(settings)
        assert TokenCipher(raw).decrypt(cipher.encrypt(TOKEN, "ctx"), "ctx") == TOKEN


@pytest.mark.parametrize(
    ("encoded", "problem"),
    [
        ("not base64 at all!", "not valid base64"),
        (base64.b64encode(os.urandom(16)).decode(), "must be 32 bytes"),
        (base64.b64encode(os.urandom(33)).decode(), "must be 32 bytes"),
    ],
    ids=["not-base64", "16-bytes", "33-bytes"],  # the same names in every pytest-xdist worker
)
def test_a_malformed_key_is_a_clear_error(encoded: str, problem: str) -> None:
    with pytest.raises(InvalidEncryptionKey, match=problem) as caught:
        TokenCipher.from_settings(Settings(encryption_key=SecretStr(encoded)))
    assert encoded not in str(caught.value)


def test_repr_never_shows_the_key() -> None:
    encoded = base64.b64encode(KEY).decode()
    cipher = TokenCipher.from_base64(encoded)
    for text in (repr(cipher), str(cipher)):
        assert encoded not in text and KEY.hex() not in text
    assert not any(isinstance(v, bytes) and v == KEY for v in vars(cipher).values())
