"""A scenario (an ordered list of modifications) and the dict form of a modification."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.model import Network
from engine.scenario.base import Change, Modification, ScenarioError
from engine.scenario.parking import CloseParking, ScaleParkingDemand, SetParkingCapacity
from engine.scenario.street import AddBikeLane, CloseStreet, SetCarSpeed
from engine.scenario.transit import AdjustFrequency, RemoveRoute, RemoveStop

MODIFICATIONS: dict[str, type[Modification]] = {cls.kind: cls for cls in (
    CloseParking, SetParkingCapacity, ScaleParkingDemand, AdjustFrequency, RemoveRoute, RemoveStop,
    AddBikeLane, SetCarSpeed, CloseStreet)}

# Singular spellings accepted in files for list fields (facility: X reads as facilities: [X]).
_ALIASES = {"facility": "facilities", "route": "routes", "stop": "stops", "way_id": "way_ids",
            "mode": "modes"}


def modification_from_dict(spec: Mapping, index: int | None = None) -> Modification:
    """Build a modification from its dict form ({"type": "close-parking", "facility": "..."}).

    Unknown types or fields, missing fields and bad values raise ScenarioError naming them.
    """
    if not isinstance(spec, Mapping):
        raise ScenarioError("?", "type", f"a modification is a mapping with a 'type', got {spec!r}", index)
    kind = spec.get("type")
    cls = MODIFICATIONS.get(kind)
    if cls is None:
        raise ScenarioError(str(kind), "type", f"unknown modification type {kind!r}; one of "
                            f"{', '.join(MODIFICATIONS)}", index)
    fields = {f.name for f in dataclasses.fields(cls) if f.init and f.name != "edge_mask"}
    required = {f.name for f in dataclasses.fields(cls) if f.init and f.name != "edge_mask"
                and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    kwargs = {}
    for key, value in spec.items():
        if key == "type":
            continue
        name = key if key in fields else _ALIASES.get(key, key)
        if name not in fields:
            raise ScenarioError(kind, key, f"unknown field; {kind} takes {', '.join(sorted(fields))}", index)
        kwargs[name] = value
    missing = sorted(required - set(kwargs))
    if missing:
        raise ScenarioError(kind, missing[0], "missing", index)
    try:
        return cls(**kwargs)
    except ScenarioError as exc:
        raise exc.at(index) if index is not None else exc from None


@dataclass(frozen=True, eq=False)
class Scenario:
    """A named, ordered list of modifications."""

    modifications: tuple
    name: str = ""

    def __post_init__(self):
        mods = tuple(self.modifications)
        for i, m in enumerate(mods):
            if not isinstance(m, Modification):
                raise ScenarioError("?", "type", f"not a modification: {m!r}", i)
        object.__setattr__(self, "modifications", mods)

    @classmethod
    def from_dicts(cls, specs: Sequence[Mapping], name: str = "") -> Scenario:
        if isinstance(specs, Mapping) or isinstance(specs, str):
            raise ScenarioError("?", "modifications", "expected a list of modifications")
        return cls(tuple(modification_from_dict(s, i) for i, s in enumerate(specs)), name=name)

    def apply(self, network: Network) -> tuple[Network, list[Change]]:
        """Validate and apply each modification in order, each on the result of the previous one.

        Returns the modified network (sharing every unchanged array with ``network``) and the
        changes. Raises ScenarioError with the failing modification's index.
        """
        changes = []
        for i, mod in enumerate(self.modifications):
            try:
                network, change = mod.apply(network)
            except ScenarioError as exc:
                raise exc.at(i) from None
            changes.append(change)
        meta = dict(network.metadata)
        meta["scenario"] = {"name": self.name, "changes": [c.message for c in changes]}
        return dataclasses.replace(network, metadata=meta), changes
