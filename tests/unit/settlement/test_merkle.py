"""Merkle roots pin a slot; inclusion proofs let one participant check their entry alone."""

import hashlib

import pytest

from services.settlement.domain.merkle import EMPTY_ROOT, inclusion_proof, merkle_root, verify_inclusion

LEAVES = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(17)]


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17])
def test_every_leaf_proves_inclusion(size: int) -> None:
    """For every tree size and leaf, the proof rebuilds the published root."""
    leaves = LEAVES[:size]
    root = merkle_root(leaves)
    for i, leaf in enumerate(leaves):
        assert verify_inclusion(leaf, i, size, inclusion_proof(leaves, i), root)


def test_wrong_leaf_or_position_does_not_prove() -> None:
    """A proof is bound to its leaf and position."""
    root = merkle_root(LEAVES[:9])
    proof = inclusion_proof(LEAVES[:9], 4)
    assert not verify_inclusion(LEAVES[5], 4, 9, proof, root)
    assert not verify_inclusion(LEAVES[4], 3, 9, proof, root)
    assert not verify_inclusion(LEAVES[4], 4, 9, proof[:-1], root)


def test_root_depends_on_order_and_content() -> None:
    """Swapping two leaves or changing one changes the root; no leaves give the empty root."""
    base = merkle_root(LEAVES[:5])
    assert merkle_root([LEAVES[1], LEAVES[0], *LEAVES[2:5]]) != base
    assert merkle_root([*LEAVES[:4], LEAVES[6]]) != base
    assert merkle_root([]) == EMPTY_ROOT
