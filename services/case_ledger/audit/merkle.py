"""Merkle trees over the ledger's events, as in Certificate Transparency (RFC 6962 / RFC 9162).

A leaf is one event: its ledger position and its event hash. A signed checkpoint holds the root
over every event up to a position; an inclusion proof shows that one event is under that root
without the other events. Leaves and inner nodes are hashed with different prefixes, so no inner
node can pass for a leaf. Only the standard library: the offline bundle verifier imports it.
"""

import hashlib
import struct
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(position: int, event_hash: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + struct.pack(">Q", position) + event_hash).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than `size` (size > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    if not leaves:
        return EMPTY_ROOT
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


class Frontier:
    """The roots of the perfect subtrees of the leaves so far: a root at any size in O(log n)."""

    def __init__(self) -> None:
        self.size = 0
        self._subtrees: list[tuple[int, bytes]] = []  # (leaf count, root), largest first

    def append(self, leaf: bytes) -> None:
        self.size += 1
        count, node = 1, leaf
        while self._subtrees and self._subtrees[-1][0] == count:
            left_count, left = self._subtrees.pop()
            count, node = left_count + count, node_hash(left, node)
        self._subtrees.append((count, node))

    def root(self) -> bytes:
        if not self._subtrees:
            return EMPTY_ROOT
        node = self._subtrees[-1][1]
        for _, left in reversed(self._subtrees[:-1]):
            node = node_hash(left, node)
        return node


def inclusion_proof(
    leaves: Sequence[bytes], index: int, cache: dict[tuple[int, int], bytes] | None = None
) -> list[bytes]:
    """The audit path of leaf `index` in the tree over `leaves` (RFC 6962, section 2.1.1).

    Pass the same `cache` for several proofs over the same leaves: they share most subtrees.
    """
    memo = {} if cache is None else cache

    def subtree(lo: int, hi: int) -> bytes:
        if (lo, hi) not in memo:
            memo[(lo, hi)] = root(leaves[lo:hi])
        return memo[(lo, hi)]

    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} is not in a tree of {len(leaves)}")
    proof: list[bytes] = []
    lo, hi = 0, len(leaves)
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            proof.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            proof.append(subtree(lo, lo + k))
            lo += k
    proof.reverse()  # from the leaf up
    return proof


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """True when `proof` leads from `leaf` at `index` to `expected_root` (RFC 9162, 2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn, node = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            node = node_hash(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and node == expected_root
