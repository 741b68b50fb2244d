"""What a live-feed reader left out: entities counted by code, with a few ids of each.

Shared by the GTFS-Realtime and GBFS readers (and the pollers that report them in
``/api/v1/info``): each reader subclasses :class:`RejectionReport` with its table of codes.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar

MAX_EXAMPLES = 5


@dataclass
class RejectionReport:
    """Entities left out of a feed, by code (``rejected``), with up to 5 ids each (``examples``)."""

    MEANINGS: ClassVar[dict[str, str]] = {}   # code -> what it means, set by each reader

    rejected: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def reject(self, code: str, entity_id: str) -> None:
        self.rejected[code] += 1
        examples = self.examples.setdefault(code, [])
        if len(examples) < MAX_EXAMPLES:
            examples.append(entity_id)

    def as_dict(self) -> dict:
        return {"rejected": {code: {"count": n, "meaning": self.MEANINGS.get(code, code),
                                    "examples": self.examples.get(code, [])}
                             for code, n in sorted(self.rejected.items())}}
