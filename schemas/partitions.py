"""Ledger partitions: which partition a case belongs to, and ranges of partitions.

The bus maps each case to one of N partitions with NATS's `partition(N, token)` subject mapping
(FNV-1a, 32 bits, of the case token, modulo N; checked against nats-server by
tests/integration/test_ledger_partitions.py). The ledger computes the same number where it has a
case but no subject.
"""

from uuid import UUID

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def fnv1a_32(data: bytes) -> int:
    value = _FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return value


def partition_of(case_id: UUID, count: int) -> int:
    """The partition of `case_id` among `count`, as the bus's subject mapping computes it."""
    return fnv1a_32(case_id.hex.encode()) % count


def parse_partitions(text: str, count: int) -> frozenset[int]:
    """`"0-3,6"` -> {0, 1, 2, 3, 6}; `"all"` -> every partition. Raises ValueError."""
    if text.strip() == "all":
        return frozenset(range(count))
    chosen: set[int] = set()
    for item in text.split(","):
        first, sep, last = item.strip().partition("-")
        low, high = int(first), int(last) if sep else int(first)
        if low > high:
            raise ValueError(f"partition range {item.strip()!r} runs backwards")
        chosen.update(range(low, high + 1))
    outside = sorted(p for p in chosen if not 0 <= p < count)
    if outside:
        raise ValueError(f"partitions {outside} do not exist: the bus has {count} (0-{count - 1})")
    return frozenset(chosen)


def split_partitions(count: int, workers: int) -> list[str]:
    """Contiguous ranges that share `count` partitions among `workers` as evenly as can be."""
    if not 1 <= workers <= count:
        raise ValueError(f"{workers} ledger workers for {count} partitions")
    ranges = []
    for worker in range(workers):
        low, high = worker * count // workers, (worker + 1) * count // workers - 1
        ranges.append(f"{low}-{high}")
    return ranges
