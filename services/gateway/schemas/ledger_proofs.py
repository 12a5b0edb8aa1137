"""Proofs a participant can check without trusting the platform (format: docs/ledger-format.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class EntryPublic(BaseModel):
    """A ledger entry whole: recompute its hash from these fields (section 2 of the format)."""

    chain: str
    seq: int
    kind: str
    ref: str
    slot: str | None
    body: str = Field(description="the body exactly as hashed (canonical JSON, as a string)")
    prev_hash: str
    hash: str


class AnchorPublic(BaseModel):
    chain: str
    slot: str
    entries: int
    merkle_root: str
    seq: int


class InclusionProofPublic(BaseModel):
    """The entry, its Merkle path (siblings bottom first) and the slot anchor the path leads to.

    ``verified`` is the platform's own check of the path against that anchor; check it yourself against the
    anchor you saved from ``/v1/ledger/anchors.jsonl`` (``tools/verify_ledger.py proof``)."""

    entry: EntryPublic
    index: int
    size: int
    proof: list[str]
    anchor: AnchorPublic
    verified: bool
    verified_against: str = Field(description="the anchor's Merkle root the proof was checked against")


class PendingProof(BaseModel):
    status: Literal["not yet anchored"]
    reason: str


class ProofPart(BaseModel):
    """One part of a certificate's story: anchored (with its proof) or not yet."""

    status: Literal["anchored", "not yet anchored"]
    reason: str | None = None
    proof: InclusionProofPublic | None = None


class RetiredPart(ProofPart):
    target: str = Field(description="the renewable target the certificate was retired against (once, for good)")


class CertificateProofPublic(BaseModel):
    """A certificate: the trade entry that issued it and, once retired, the retirement entry naming its target."""

    certificate: dict[str, object]
    issued: ProofPart
    retired: RetiredPart | None


class PublicKeyPublic(BaseModel):
    key_id: str = Field(description="first 16 hex digits of SHA-256 of the raw public key")
    public_key: str = Field(description="raw Ed25519 public key, 32 bytes in hex")
