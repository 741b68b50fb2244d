"""What every modification shares: :class:`ScenarioError`, the :class:`Change` report and the
:class:`Modification` base (build, validate, apply, back to its dict form)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from engine.model import Mode, Network


class ScenarioError(ValueError):
    """A modification that cannot be applied: names its index, kind and field.

    ``index`` is the modification's position in its scenario (0-based; None when the
    modification is used on its own), ``kind`` its type (``adjust-frequency``...), ``field``
    the offending field.
    """

    def __init__(self, kind: str, field: str, message: str, index: int | None = None):
        self.kind, self.field, self.detail, self.index = kind, field, message, index
        where = f"modification {index} ({kind})" if index is not None else f"modification {kind}"
        super().__init__(f"{where}, field '{field}': {message}")

    def at(self, index: int) -> ScenarioError:
        """The same error, placed at position ``index`` of a scenario."""
        return ScenarioError(self.kind, self.field, self.detail, index)


@dataclass(frozen=True)
class Change:
    """What one modification touched: a sentence and the counts behind it."""

    kind: str
    message: str
    counts: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


@dataclass(frozen=True, eq=False)
class Modification:
    """Base of every modification. Subclasses set ``kind`` and implement the three steps."""

    kind: ClassVar[str] = ""

    def validate(self, network: Network) -> None:
        """Raise ScenarioError (index None) when the modification cannot apply to ``network``."""

    def apply(self, network: Network) -> tuple[Network, Change]:
        """Validate, then return (a copy of ``network`` with the change, what it touched)."""
        raise NotImplementedError

    def to_dict(self) -> dict:
        """The JSON-able description (the inverse of :func:`modification_from_dict`)."""
        out = {"type": self.kind}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name.startswith("_") or value is None or isinstance(value, np.ndarray):
                continue
            if isinstance(value, tuple):
                value = _plain(value)
            elif isinstance(value, Mode):
                value = value.name
            out[f.name] = value
        return out


def _plain(value):
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mode):
        return value.name
    return value
