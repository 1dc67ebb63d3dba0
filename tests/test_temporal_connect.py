"""How `flightdeck.temporal` builds its client options: TLS / mTLS / API key, payload codec."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.service import TLSConfig

from flightdeck.payload_codec import EncryptionCodec, PayloadDecryptionError
from flightdeck.settings import Settings
from flightdeck.temporal import data_converter, tls_config


def test_plain_grpc_by_default_and_tls_with_an_api_key() -> None:
    assert tls_config(Settings()) is False
    assert tls_config(Settings(temporal_tls=True)) is True
    assert tls_config(Settings(temporal_api_key=SecretStr("cloud-key"))) is True


def test_mtls_reads_the_ca_and_the_client_pair(tmp_path: Path) -> None:
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_bytes(f"-- {name} --".encode())
    config = tls_config(
        Settings(
            temporal_tls_server_ca_cert_file=tmp_path / "ca.pem",
            temporal_tls_client_cert_file=tmp_path / "cert.pem",
            temporal_tls_client_key_file=tmp_path / "key.pem",
            temporal_tls_server_name="temporal.internal",
        )
    )
    assert isinstance(config, TLSConfig)
    assert config.server_root_ca_cert == b"-- ca.pem --"
    assert (config.client_cert, config.client_private_key) == (b"-- cert.pem --", b"-- key.pem --")
    assert config.domain == "temporal.internal"


def test_a_client_cert_without_its_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("x")
    with pytest.raises(ValueError, match="CLIENT_KEY_FILE"):
        tls_config(Settings(temporal_tls_client_cert_file=tmp_path / "cert.pem"))


async def test_the_codec_round_trips_and_refuses_another_key_or_tampering() -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    converter = data_converter(Settings(temporal_payload_key=SecretStr(key)))
    assert isinstance(converter.payload_codec, EncryptionCodec)
    assert data_converter(Settings()).payload_codec is None
    codec = converter.payload_codec
    original = Payload(metadata={"encoding": b"json/plain"}, data=b'{"hookSetId":"secret"}')
    (sealed,) = await codec.encode([original])
    assert b"secret" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [original]
    # Payloads from before encryption was turned on still read.
    assert await codec.decode([original]) == [original]
    other = EncryptionCodec(os.urandom(32))
    with pytest.raises(PayloadDecryptionError):
        await other.decode([sealed])
    # Flip a bit of the last byte (replacing it with a constant left it unchanged 1 in 256).
    tampered = Payload(
        metadata=dict(sealed.metadata), data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    )
    with pytest.raises(PayloadDecryptionError):
        await codec.decode([tampered])
