"""The settlement service's Ed25519 identity: it signs chain heads, anyone holding the public key checks them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key (first 16 hex digits of SHA-256 of its raw bytes)."""
    return hashlib.sha256(public_bytes(public_key)).hexdigest()[:16]


def public_bytes(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def load_public_key(key: Ed25519PublicKey | bytes | str) -> Ed25519PublicKey:
    """A public key from the object itself, its 32 raw bytes, or those bytes in hex."""
    if isinstance(key, Ed25519PublicKey):
        return key
    raw = bytes.fromhex(key) if isinstance(key, str) else key
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True)
class Signer:
    """Signs 32-byte entry hashes; built from the 32-byte raw private key (or a fresh one for development)."""

    private_key: Ed25519PrivateKey

    @classmethod
    def from_bytes(cls, raw: bytes) -> Signer:
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, entry_hash: str) -> str:
        return self.private_key.sign(bytes.fromhex(entry_hash)).hex()


def signature_ok(public_key: Ed25519PublicKey, entry_hash: str, signature: str) -> bool:
    try:
        public_key.verify(bytes.fromhex(signature), bytes.fromhex(entry_hash))
    except (InvalidSignature, ValueError):
        return False
    return True
