"""`--shard K/N`: which services of a catalogue one machine of N runs.

The services are sorted by id and dealt round-robin: shard K takes the 1st, (N+1)th, (2N+1)th ... of that
order. The share depends only on the ids, never on the order of the target file or the machine, so N jobs
given the same catalogue split it the same way, without overlap and without a gap, and no two shards differ
by more than one service (each shard has one as long as N is at most the number of services).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class ShardError(ValueError):
    """A --shard value that names no share; the message names the option, the rule and the value."""


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based: shard 1/2 and shard 2/2
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def select(self, service_ids: Iterable[str]) -> list[str]:
        """This shard's services, in the order they were given."""
        ids = list(service_ids)
        mine = set(sorted(set(ids))[self.index - 1::self.count])
        return [s for s in ids if s in mine]

    def as_dict(self, services: list[str]) -> dict:
        return {"index": self.index, "count": self.count, "services": list(services)}


def parse_shard(value: str | None, option: str = "--shard") -> Shard | None:
    """'2/4' as Shard(2, 4); None for no value. K and N are whole numbers with 1 ≤ K ≤ N."""
    if value is None or str(value).strip() == "":
        return None
    m = SHARD.match(str(value))
    if not m:
        raise ShardError(f"{option}: rule 'K/N, two whole numbers' — value {value!r} "
                         f"(phân đoạn phải có dạng K/N, ví dụ 1/2)")
    index, count = int(m.group(1)), int(m.group(2))
    if count < 1:
        raise ShardError(f"{option}: rule 'N ≥ 1' — value {value!r} (số phân đoạn phải từ 1)")
    if not 1 <= index <= count:
        raise ShardError(f"{option}: rule '1 ≤ K ≤ N' — value {value!r} (phân đoạn K phải từ 1 đến {count})")
    return Shard(index, count)


def select_shard(shard: Shard, service_ids: list[str], option: str = "--shard") -> list[str]:
    """The shard's services; an empty share is an error naming how many services there are."""
    chosen = shard.select(service_ids)
    if not chosen:
        raise ShardError(f"{option}: rule 'N ≤ number of services' — value {str(shard)!r}: the selection has "
                         f"{len(set(service_ids))} service(s), so shard {shard.index} would test none "
                         f"(phân đoạn này không có dịch vụ nào)")
    return chosen
