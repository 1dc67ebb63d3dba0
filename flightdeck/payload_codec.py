"""Optional encryption of every workflow payload (plans, names, account ids …) before it reaches
Temporal's database: AES-256-GCM with `FLIGHTDECK_TEMPORAL_PAYLOAD_KEY` (off when unset).

An encrypted payload has `encoding: binary/encrypted` and `encryption-key-id` (a fingerprint of
the key, so a rotated key is recognised), its data `nonce | ciphertext+tag` of the serialized
original payload. The API's `/codec/encode` and `/codec/decode` (`api/routes/codec.py`) apply
the same codec for the Temporal Web UI, for signed-in users only."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

from flightdeck.crypto import KEY_BYTES, NONCE_BYTES, InvalidEncryptionKey

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"


class PayloadDecryptionError(Exception):
    """A payload encrypted with another key, or tampered with."""


class EncryptionCodec(PayloadCodec):
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise InvalidEncryptionKey(f"the payload key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(key).hexdigest()[:16].encode()

    @classmethod
    def from_base64(cls, encoded: str) -> EncryptionCodec:
        text = encoded.strip().replace("-", "+").replace("_", "/")
        try:
            return cls(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            raise InvalidEncryptionKey(
                "FLIGHTDECK_TEMPORAL_PAYLOAD_KEY must be the base64 of 32 random bytes"
            ) from None

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt(p) for p in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, payload.SerializeToString(), self.key_id)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: self.key_id}, data=nonce + sealed)

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption was turned on
        if payload.metadata.get(KEY_ID) != self.key_id:
            raise PayloadDecryptionError("payload encrypted with another key")
        try:
            plain = self._aead.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:],
                                       self.key_id)  # fmt: skip
        except InvalidTag:
            raise PayloadDecryptionError("payload does not decrypt (tampered?)") from None
        return Payload.FromString(plain)


def with_codec(converter: DataConverter, codec: PayloadCodec | None) -> DataConverter:
    return converter if codec is None else dataclasses.replace(converter, payload_codec=codec)
