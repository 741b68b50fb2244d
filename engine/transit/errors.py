"""Errors of transit queries; the API maps their ``code`` to a reason code of an empty answer."""
from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence


class TransitQueryError(ValueError):
    """A query the timetable cannot answer; ``code`` is the API's reason code."""

    code = "INVALID_QUERY"


class OutsideServicePeriod(TransitQueryError):
    """The query date is outside the feed's service period (``first_day``..``last_day``)."""

    code = "OUTSIDE_SERVICE_PERIOD"

    def __init__(self, day: int, first_day: int | None, last_day: int | None):
        self.day, self.first_day, self.last_day = day, first_day, last_day
        if first_day is None:
            msg = f"no trip runs on any day of this timetable (asked for {_iso_day(day)})"
        else:
            msg = (f"{_iso_day(day)} is outside the service period of the timetable: "
                   f"{_iso_day(first_day)} to {_iso_day(last_day)}")
        super().__init__(msg)


class UnknownStop(TransitQueryError, KeyError):
    """A stop id that the timetable does not have; ``suggestions``: ids it may have meant."""

    code = "UNKNOWN_STOP"

    def __init__(self, stop_id: str, suggestions: Sequence[str] = ()):
        self.stop_id = stop_id
        self.suggestions = tuple(suggestions)
        hint = (f"; did you mean {' or '.join(repr(s) for s in self.suggestions)}?"
                if self.suggestions else "")
        super().__init__(f"unknown stop id {stop_id!r}{hint}")

    def __str__(self) -> str:  # KeyError would quote the message again
        return self.args[0]


def similar_stop_ids(stop_id: str, ids: Iterable[str], limit: int = 3) -> list[str]:
    """Ids of ``ids`` a user typing ``stop_id`` probably meant: the same id under a feed's prefix
    (a merged network names its stops ``feed:id``), or without the prefix given; at most
    ``limit``, sorted."""
    suffix = ":" + stop_id
    bare = stop_id.split(":", 1)[1] if ":" in stop_id else None
    found = sorted(s for s in map(str, ids) if s.endswith(suffix) or s == bare)
    return found[:limit]


def _iso_day(day: int) -> str:
    return (_dt.date(1970, 1, 1) + _dt.timedelta(days=int(day))).isoformat()

