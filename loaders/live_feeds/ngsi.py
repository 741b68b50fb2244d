"""Readings of a FIWARE NGSI poll: car parks (``OffStreetParking``, ``OnStreetParking``) and
bike-share docking stations (``BikeHireDockingStation``), v2 normalized or keyValues, NGSI-LD.

The facility id, the attribute values and their instants are read by the same helpers as the
build's facilities (``loaders.parking.ngsi``), so a reading lands on the facility the build made
of the same entity. Car parks: free = ``availableSpotNumber``, capacity = ``totalSpotNumber``.
Docking stations, by the bike-share rule shared with GBFS (``loaders.gbfs.station_facility_id``):
free = ``freeSlotNumber`` (free docks), capacity = ``availableBikeNumber`` + free docks (so
occupied = bikes); without a bike count, the capacity is left out. The instant is the value
attribute's (``metadata.timestamp`` or NGSI-LD ``observedAt``), else ``dateObserved`` /
``dateModified``.
"""
from __future__ import annotations

import math

from loaders.live_feeds.readings import Bad, LiveFeedError, LiveFeedReport, Reading, whole_count
from loaders.parking.ngsi import (
    _NGSI_CAPACITY,
    _NGSI_KIND,
    _live_values,
    _unwrap,
    entity_facility_id,
)


def readings_from_ngsi(document, source: str) -> tuple[list[Reading], LiveFeedReport]:
    """The readings of an NGSI document (a list of entities, or one entity).

    Raises LiveFeedError when the document is not NGSI entities at all.
    """
    if isinstance(document, dict) and "id" in document and "type" in document:
        document = [document]
    if not isinstance(document, list):
        raise LiveFeedError(f"{source}: expected a JSON list of NGSI entities (objects with 'id' "
                            "and 'type')")
    report = LiveFeedReport()
    readings, seen = [], set()
    for index, entity in enumerate(document):
        eid = entity_facility_id(entity) if isinstance(entity, dict) else ""
        try:
            reading = _reading(entity, eid)
        except Bad as bad:
            report.reject(bad.code, eid or f"#{index}")
            continue
        if reading is None:
            continue
        if eid in seen:
            report.reject("duplicate_entity_id", eid)
            continue
        seen.add(eid)
        readings.append(reading)
    return readings, report


def _reading(entity, eid: str) -> Reading | None:
    """The reading of one entity; None for a ParkingAccess (no counts); Bad otherwise."""
    if not isinstance(entity, dict) or "type" not in entity:
        raise Bad("not_an_object")
    etype = str(entity["type"])
    if etype == "ParkingAccess":
        return None
    kind = _NGSI_KIND.get(etype)
    if kind is None:
        raise Bad("unsupported_entity_type")
    if not eid:
        raise Bad("missing_id")
    at_s = _live_values(entity, kind)[1]
    if math.isnan(at_s):
        raise Bad("missing_timestamp")
    free_keys = ("freeSlotNumber",) if kind == "bike_share" else ("availableSpotNumber",)
    free_count = _count_attr(entity, free_keys)
    if free_count is None:
        raise Bad("missing_value")
    if kind == "bike_share":
        bike_count = _count_attr(entity, ("availableBikeNumber",))
        capacity = None if bike_count is None or free_count is None else bike_count + free_count
    else:
        capacity = _count_attr(entity, _NGSI_CAPACITY)
    return Reading(facility_id=eid, time_utc_s=int(at_s), free_spaces=free_count, capacity=capacity)


def _count_attr(entity: dict, keys) -> int | None:
    """The first of ``keys`` present, as a whole count (Bad ``invalid_value`` otherwise)."""
    for key in keys:
        if key in entity:
            return whole_count(_unwrap(entity[key]))
    return None
