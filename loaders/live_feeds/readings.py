"""What every live-feed reader returns: readings, a report of entities left out, and the errors."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import ClassVar

from loaders.gbfs import CODES as GBFS_CODES
from loaders.rejections import RejectionReport

CODES = {
    **GBFS_CODES,
    "missing_id": "an entity or record without a facility id",
    "duplicate_entity_id": "an entity listed again under an id already seen (the first is kept)",
    "unsupported_entity_type": "an NGSI entity type that is not a facility (ParkingAccess, ...)",
    "missing_timestamp": "no instant for the reading (attribute timestamp, observedAt, "
                         "dateObserved, last_reported...)",
    "invalid_timestamp": "an instant that cannot be read (not ISO 8601, not POSIX seconds)",
    "missing_value": "neither free spaces nor occupied spaces given",
    "station_not_installed": "a GBFS station whose is_installed is false",
}
"""Codes of entities left out by the readers (the GBFS reader's codes included)."""


class LiveFeedError(ValueError):
    """A body that is not a feed of the expected kind at all; the message names the source."""


class Bad(Exception):
    """One entity breaks a rule: ``code`` (a key of CODES). Caught per entity by the readers."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Reading:
    """One reading of a facility: free spaces (or occupied) and capacity at an instant.

    Counts are ints or None (not given); they are not checked against the facility here.
    """

    facility_id: str
    time_utc_s: int          # POSIX seconds
    free_spaces: int | None
    occupied: int | None = None
    capacity: int | None = None

    def as_item(self) -> dict:
        """The reading as the dict :func:`api.observation_checks.check_reading` takes."""
        return {"facility_id": self.facility_id, "time_utc_s": self.time_utc_s,
                "free_spaces": self.free_spaces, "occupied": self.occupied, "capacity": self.capacity}


@dataclass
class LiveFeedReport(RejectionReport):
    """Entities left out of one poll, by code, with up to 5 ids each."""

    MEANINGS: ClassVar[dict[str, str]] = CODES


def parse_json(body: bytes, source: str):
    """The JSON document of a body; LiveFeedError naming ``source`` for HTML or broken JSON."""
    head = body[:512].lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<?xml", b"<")):
        raise LiveFeedError(f"{source}: an HTML/XML page, not JSON (a maintenance or login page?)")
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise LiveFeedError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise LiveFeedError(f"{source}: not JSON ({exc})") from None


def whole_count(value) -> int | None:
    """A count as an int (None when absent); Bad ``invalid_value`` for text, NaN or a fraction.

    Negative counts pass: the checks shared with the POST refuse them by name.
    """
    if value is None:
        return None
    if isinstance(value, str):   # "157": some brokers send numbers as text
        try:
            value = float(value.strip())
        except ValueError:
            raise Bad("invalid_value") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Bad("invalid_value")
    if not math.isfinite(value) or value != int(value):
        raise Bad("invalid_value")
    return int(value)
