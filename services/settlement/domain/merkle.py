"""Merkle roots over a slot's entry hashes (RFC 6962 shape), so one published hash pins a whole slot.

Leaves and inner nodes are hashed with different prefixes (0x00 / 0x01) so a leaf can never pose as a
node. An inclusion proof lets a participant check that their trade is under a published root without
seeing anyone else's entries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def _leaf(entry_hash: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash)).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _root(leaves: Sequence[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node(_root(leaves[:k]), _root(leaves[k:]))


def merkle_root(entry_hashes: Sequence[str]) -> str:
    if not entry_hashes:
        return EMPTY_ROOT
    return _root([_leaf(h) for h in entry_hashes]).hex()


def inclusion_proof(entry_hashes: Sequence[str], index: int) -> list[str]:
    """Sibling hashes from the leaf at ``index`` up to the root."""
    if not 0 <= index < len(entry_hashes):
        raise IndexError(f"leaf {index} outside 0..{len(entry_hashes) - 1}")
    leaves = [_leaf(h) for h in entry_hashes]
    path: list[str] = []

    def walk(nodes: Sequence[bytes], i: int) -> None:
        if len(nodes) == 1:
            return
        k = _split(len(nodes))
        if i < k:
            walk(nodes[:k], i)
            path.append(_root(nodes[k:]).hex())
        else:
            walk(nodes[k:], i - k)
            path.append(_root(nodes[:k]).hex())

    walk(leaves, index)
    return path


def verify_inclusion(entry_hash: str, index: int, size: int, proof: Sequence[str], root: str) -> bool:
    """Whether ``entry_hash`` sits at ``index`` of a tree of ``size`` leaves with ``root``."""
    if not 0 <= index < size:
        return False

    def rebuild(i: int, n: int, path: list[str]) -> bytes | None:
        if n == 1:
            return _leaf(entry_hash) if not path else None
        if not path:
            return None
        k = _split(n)
        sibling = bytes.fromhex(path[-1])
        if i < k:
            below = rebuild(i, k, path[:-1])
            return None if below is None else _node(below, sibling)
        below = rebuild(i - k, n - k, path[:-1])
        return None if below is None else _node(sibling, below)

    got = rebuild(index, size, list(proof))
    return got is not None and got.hex() == root
