"""Parking modifications: ``close-parking``, ``set-parking-capacity``, ``scale-parking-demand``.

* ``close-parking``: the facilities are removed from :class:`Parking` (their rows of every
  per-facility array, occupancy history and profile): no planner can choose them.
* ``set-parking-capacity`` and ``scale-parking-demand`` change the occupancy *profile* the
  forecaster reads: see :mod:`engine.scenario.parking_profile`. Live observations are not touched
  (a scenario is a forecast question, not a live one).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from engine.model import NO_INDEX, Network, Parking, ParkingKind
from engine.scenario.base import Change, Modification, ScenarioError, _plural
from engine.scenario.fields import _ids, _positive
from engine.scenario.lookups import _facility_label, facility_indices
from engine.scenario.parking_profile import refit_profile, reshape_profile

CAR_KINDS = (ParkingKind.CAR_PARK, ParkingKind.PARK_AND_RIDE, ParkingKind.ON_STREET)
"""Facility kinds whose demand ``scale-parking-demand`` scales when no facility is named."""


def _take_facilities(parking: Parking, keep: np.ndarray) -> Parking:
    """The parking restricted to facility rows ``keep`` (history and profile re-indexed)."""
    n = parking.n_facilities
    per_facility = {}
    for f in dataclasses.fields(parking):
        value = getattr(parking, f.name)
        if isinstance(value, np.ndarray) and value.shape[:1] == (n,):
            per_facility[f.name] = np.asarray(value)[keep]
    history = parking.history
    if history is not None:
        new_idx = np.full(n, NO_INDEX, dtype=np.int64)
        new_idx[keep] = np.arange(keep.size)
        fac = np.asarray(history.facility_idx)
        rows = new_idx[fac] != NO_INDEX
        changes = {}
        for f in dataclasses.fields(history):
            value = getattr(history, f.name)
            if isinstance(value, np.ndarray) and value.shape == fac.shape:
                changes[f.name] = np.asarray(value)[rows]
        changes["facility_idx"] = new_idx[fac[rows]].astype(np.int32)
        history = dataclasses.replace(history, **changes)
    profile = parking.profile
    if profile is not None:
        changes = {}
        for f in dataclasses.fields(profile):
            value = getattr(profile, f.name)
            if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n \
                    and f.name != "holiday_days":
                changes[f.name] = np.asarray(value)[keep]
        profile = dataclasses.replace(profile, **changes)
    zones = parking.zones
    if zones is not None:
        new_idx = np.full(n, NO_INDEX, dtype=np.int64)
        new_idx[keep] = np.arange(keep.size)
        zones = zones.renumbered(new_idx)
    return dataclasses.replace(parking, history=history, profile=profile, zones=zones,
                               **per_facility)


@dataclass(frozen=True, eq=False)
class CloseParking(Modification):
    """Close parking facilities: they are removed from the network's parking (``close-parking``)."""

    facilities: tuple
    kind: ClassVar[str] = "close-parking"

    def __post_init__(self):
        object.__setattr__(self, "facilities", _ids(self.facilities, kind=self.kind, field_name="facilities"))

    def validate(self, network: Network) -> None:
        facility_indices(network.parking, self.facilities, kind=self.kind)

    def apply(self, network: Network) -> tuple[Network, Change]:
        self.validate(network)
        pk = network.parking
        closed = np.unique(facility_indices(pk, self.facilities, kind=self.kind))
        keep = np.setdiff1d(np.arange(pk.n_facilities), closed)
        names = ", ".join(_facility_label(pk, int(f)) for f in closed)
        n_car = int(np.isin(np.asarray(pk.kind)[closed], CAR_KINDS).sum())
        what = (_plural(n_car, "car park") if n_car == closed.size
                else _plural(int(closed.size), "parking facility", "parking facilities"))
        change = Change(self.kind, f"closes {what} ({names})", {"facilities_closed": int(closed.size)})
        return dataclasses.replace(network, parking=_take_facilities(pk, keep)), change


@dataclass(frozen=True, eq=False)
class SetParkingCapacity(Modification):
    """Change a facility's number of spaces; demand (occupied spaces) stays (``set-parking-capacity``)."""

    facilities: tuple
    capacity: int
    kind: ClassVar[str] = "set-parking-capacity"

    def __post_init__(self):
        object.__setattr__(self, "facilities", _ids(self.facilities, kind=self.kind, field_name="facilities"))
        cap = _positive(self.capacity, kind=self.kind, field_name="capacity")
        if cap != int(cap):
            raise ScenarioError(self.kind, "capacity",
                                f"must be a whole number of spaces, got {self.capacity!r}")
        object.__setattr__(self, "capacity", int(cap))

    def validate(self, network: Network) -> None:
        facility_indices(network.parking, self.facilities, kind=self.kind)

    def apply(self, network: Network) -> tuple[Network, Change]:
        self.validate(network)
        pk = network.parking
        f = np.unique(facility_indices(pk, self.facilities, kind=self.kind))
        old = np.asarray(pk.capacity, dtype=np.int64)[f]
        capacity = np.array(pk.capacity, copy=True)
        capacity[f] = self.capacity
        profile = pk.profile
        known = f[old > 0]
        if profile is not None and known.size:
            refit = refit_profile(pk, known, np.full(known.size, self.capacity), np.ones(known.size))
            profile = refit if refit is not None else reshape_profile(
                profile, known, old[old > 0], np.full(known.size, self.capacity), np.ones(known.size))
        parking = dataclasses.replace(pk, capacity=capacity.astype(np.asarray(pk.capacity).dtype),
                                      profile=profile)
        parts = [f"{_facility_label(pk, int(i))} from {int(c) if c > 0 else 'unknown'}"
                 for i, c in zip(f, old, strict=True)]
        msg = f"sets the capacity of {'; '.join(parts)} to {self.capacity:,} spaces"
        if (old <= 0).any():
            msg += f" ({_plural(int((old <= 0).sum()), 'facility', 'facilities')} had no known capacity: " \
                   "occupancy forecast unchanged)"
        return dataclasses.replace(network, parking=parking), Change(
            self.kind, msg, {"facilities_changed": int(f.size)})


@dataclass(frozen=True, eq=False)
class ScaleParkingDemand(Modification):
    """Multiply the occupied spaces of car parks by ``factor`` in the forecast (``scale-parking-demand``).

    ``facilities`` empty: every car facility (car park, park-and-ride, on-street zone).
    ``factor`` 1.2 means 20 % more cars parked at every hour, 0.5 half as many.
    """

    factor: float
    facilities: tuple = ()
    kind: ClassVar[str] = "scale-parking-demand"

    def __post_init__(self):
        object.__setattr__(self, "factor", _positive(self.factor, kind=self.kind, field_name="factor"))
        if self.facilities not in ((), None, "all"):
            object.__setattr__(self, "facilities",
                               _ids(self.facilities, kind=self.kind, field_name="facilities"))
        else:
            object.__setattr__(self, "facilities", ())

    def _targets(self, pk: Parking) -> np.ndarray:
        if self.facilities:
            return np.unique(facility_indices(pk, self.facilities, kind=self.kind))
        return np.flatnonzero(np.isin(np.asarray(pk.kind), CAR_KINDS))

    def validate(self, network: Network) -> None:
        pk = network.parking
        f = self._targets(pk)
        if f.size == 0:
            raise ScenarioError(self.kind, "facilities", "the network has no car parking facility")
        if pk.profile is None:
            raise ScenarioError(self.kind, "facilities", "the network has no occupancy profile: "
                                "there is no demand to scale (build it with a parking history)")
        if self.facilities:
            cap = np.asarray(pk.capacity)[f]
            has = ~np.isnan(np.asarray(pk.profile.free_mean)[f].reshape(f.size, -1)).all(axis=1)
            bad = f[(cap <= 0) | ~has]
            if bad.size:
                raise ScenarioError(self.kind, "facilities", f"{pk.facility_ids[bad[0]]!r} has no known "
                                    "capacity or no occupancy profile: its demand cannot be scaled")

    def apply(self, network: Network) -> tuple[Network, Change]:
        self.validate(network)
        pk = network.parking
        f = self._targets(pk)
        cap = np.asarray(pk.capacity, dtype=np.float64)[f]
        has = ~np.isnan(np.asarray(pk.profile.free_mean)[f].reshape(f.size, -1)).all(axis=1)
        ok = f[(cap > 0) & has]
        kept = cap[(cap > 0) & has]
        profile = refit_profile(pk, ok, kept, np.full(ok.size, self.factor))
        if profile is None:
            profile = reshape_profile(pk.profile, ok, kept, kept, np.full(ok.size, self.factor))
        skipped = int(f.size - ok.size)
        msg = f"scales parking demand by {self.factor:g} at {_plural(int(ok.size), 'car park')}"
        if self.facilities and ok.size <= 3:
            msg += f" ({', '.join(_facility_label(pk, int(i)) for i in ok)})"
        if skipped:
            msg += (f"; {_plural(skipped, 'facility', 'facilities')} without capacity or profile "
                    "left unchanged")
        return dataclasses.replace(network, parking=dataclasses.replace(pk, profile=profile)), Change(
            self.kind, msg, {"facilities_scaled": int(ok.size), "facilities_skipped": skipped})
