"""Durations counted in fixed log-scale buckets, and the percentiles read from them.

A duration of d seconds falls in bucket k = floor(log(d) / log(1.1)): the bucket holds
[1.1^k, 1.1^(k+1)). A percentile is found by nearest rank over the buckets' cumulative counts
(the bucket holding the ceil(q n / 100)-th smallest duration) and reported as that bucket's
geometric middle, 1.1^(k + 1/2): within sqrt(1.1) - 1 < 4.9 % of the exact nearest-rank value.
Durations under a millisecond count as one millisecond.
"""

import math
from collections.abc import Mapping

RATIO = 1.1
FLOOR_S = 0.001
NO_BUCKET = -10_000  # what an unanswered step or an open case has: no duration yet
_LOG_RATIO = math.log(RATIO)


def bucket_of(seconds: float) -> int:
    return math.floor(math.log(max(seconds, FLOOR_S)) / _LOG_RATIO)


def bucket_value(bucket: int) -> float:
    """What a percentile that falls in the bucket reports: its geometric middle, in seconds."""
    return round(float(RATIO ** (bucket + 0.5)), 6)


def nearest_rank(n: int, q_percent: int) -> int:
    """The 1-based rank of the q-th percentile among n sorted values (ceil(q n / 100))."""
    return max(1, (q_percent * n + 99) // 100)


def percentile(counts: Mapping[int, int], q_percent: int) -> float | None:
    """The q-th percentile of the durations counted in `counts` (bucket -> how many)."""
    n = sum(counts.values())
    if n <= 0:
        return None
    rank, seen = nearest_rank(n, q_percent), 0
    for bucket in sorted(counts):
        seen += counts[bucket]
        if seen >= rank:
            return bucket_value(bucket)
    return None  # unreachable: the counts add up to n
