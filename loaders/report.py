"""The build report: what the loaders repaired, dropped or refused, and why.

Every loader takes a :class:`BuildReport` and records a :class:`Notice` for each kind of problem
it meets, with the file, row and column where it can name them and the GTFS validator's notice
code where one exists (``duplicate_key``, ``foreign_key_violation``, ``invalid_time``...). Fatal
problems raise :class:`LoaderError`, which carries the notice; the CLI prints its message and exits
non-zero without a traceback. Nothing is dropped silently: :meth:`BuildReport.drop` counts it.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np

MAX_NOTICES_PER_CODE = 20
"""Examples kept per (file, code); further occurrences are only counted."""


def quoted(value) -> str:
    """An id or value as every message shows it: the repr of the plain Python value ('4220',
    'poa_eptc:4220', 3). Ids taken from numpy arrays are numpy scalars, whose repr names their
    type under numpy 2 (np.str_('poa_eptc:4220')); format them with this, not ``!r``."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


@dataclass(frozen=True)
class Notice:
    """One problem found in an input file."""

    code: str                       # validator-style code, e.g. "invalid_time"
    message: str                    # what is wrong and what was done about it
    file: str | None = None         # the file (or zip member) it was found in
    row: int | None = None          # line in the file as validators count (header = row 1), when known
    column: str | None = None       # the column or field name, when known
    severity: str = "warning"       # "warning" (repaired or dropped) or "error" (fatal)

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row:,}")
        if self.column:
            where.append(f"column {self.column!r}")
        prefix = (" ".join(where) + ": ") if where else ""
        return f"{prefix}{self.message} [{self.code}]"


class LoaderError(Exception):
    """A fatal problem in an input: the build stops, naming the file, row, column and code."""

    def __init__(self, notice: Notice, more: int = 0):
        self.notice = Notice(**{**asdict(notice), "severity": "error"})
        self.more = more
        text = str(self.notice)
        if more:
            text += f" ({more:,} more rows like this)"
        super().__init__(text)

    @classmethod
    def of(cls, code: str, message: str, *, file: str | None = None, row: int | None = None,
           column: str | None = None, more: int = 0) -> LoaderError:
        return cls(Notice(code=code, message=message, file=file, row=row, column=column), more)


@dataclass
class BuildReport:
    """Warnings and drop counts gathered while loading; serialised into the bundle manifest."""

    notices: list[Notice] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)      # (file, code) -> occurrences
    dropped: Counter = field(default_factory=Counter)     # (what, reason) -> number dropped

    def warn(self, code: str, message: str, *, file: str | None = None, row: int | None = None,
             column: str | None = None, count: int = 1) -> None:
        """Record ``count`` occurrences of a repaired or tolerated problem (keeps a few examples)."""
        key = (file or "", code)
        if self.counts[key] < MAX_NOTICES_PER_CODE:
            self.notices.append(Notice(code, message, file, row, column))
        self.counts[key] += count

    def drop(self, what: str, reason: str, n: int = 1) -> None:
        """Count ``n`` records of kind ``what`` (e.g. "stop_times.txt rows") dropped for ``reason``."""
        if n:
            self.dropped[(what, reason)] += int(n)

    def merge(self, other: BuildReport) -> None:
        self.notices.extend(other.notices)
        self.counts.update(other.counts)
        self.dropped.update(other.dropped)

    @property
    def warnings(self) -> list[Notice]:
        return [n for n in self.notices if n.severity == "warning"]

    def to_json(self) -> dict:
        """JSON-able form for the manifest: examples, totals per code, drops per reason."""
        return {
            "notices": [asdict(n) for n in self.notices],
            "totals": [{"file": f or None, "code": c, "count": n}
                       for (f, c), n in sorted(self.counts.items())],
            "dropped": [{"what": w, "reason": r, "count": n}
                        for (w, r), n in sorted(self.dropped.items())],
        }

    def summary_lines(self) -> list[str]:
        """Human-readable lines: one per (file, code) with its total, then the drops."""
        lines = []
        shown = set()
        for n in self.notices:
            key = (n.file or "", n.code)
            if key in shown:
                continue
            shown.add(key)
            total = self.counts[key]
            extra = f" ({total:,} in all)" if total > 1 else ""
            lines.append(f"warning: {n}{extra}")
        for (what, reason), count in sorted(self.dropped.items()):
            lines.append(f"dropped {count:,} {what}: {reason}")
        return lines
