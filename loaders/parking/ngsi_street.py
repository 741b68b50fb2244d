"""The street-zone part of an NGSI ``OnStreetParking`` entity (Smart Data Models,
``dataModel.Parking/OnStreetParking``): its line, fee, longest stay and who may park.

* line: the ``location`` geometry: a LineString as it is, a Polygon's (or the largest
  MultiPolygon part's) outer ring, a Point as a one-point line (drawn as a dot);
* fee: ``chargeType`` (``free`` -> free; any other charge -> paid) or the ``category``
  (``feeCharged`` / ``free``); unknown otherwise;
* longest stay: ``maximumParkingDuration`` (ISO 8601 duration, e.g. ``PT2H``);
* residents only: ``category`` ``onlyResidents`` or a ``requiredPermit`` that is not empty: the
  zone is not for the public (the caller drops it and counts it).
The capacity is ``totalSpotNumber`` (a count from the city, not an estimate).
"""
from __future__ import annotations

import math
import re

from engine.model import ZONE_SIDE_UNKNOWN

_ISO_DURATION = re.compile(r"^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?"
                           r"(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def iso_duration_s(text) -> float:
    """Seconds of an ISO 8601 duration (``PT2H``, ``PT90M``, ``P1DT2H``); NaN when unreadable."""
    match = _ISO_DURATION.match(str(text).strip().upper()) if text is not None else None
    if not match or not any(match.groups()):
        return math.nan
    d, h, m, s = (float(g) if g else 0.0 for g in match.groups())
    return d * 86400 + h * 3600 + m * 60 + s


def _line(geometry) -> tuple[list, list] | None:
    if not isinstance(geometry, dict):
        return None
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    try:
        if kind == "LineString":
            pts = coords
        elif kind == "Polygon":
            pts = coords[0]
        elif kind == "MultiPolygon":
            pts = max((poly[0] for poly in coords), key=len)
        elif kind == "Point":
            pts = [coords, coords]
        else:
            return None
        lon = [float(p[0]) for p in pts]
        lat = [float(p[1]) for p in pts]
    except (TypeError, ValueError, IndexError):
        return None
    return (lon, lat) if len(lon) >= 2 else None


def zone_columns(ent: dict, unwrap, categories: list) -> dict | None:
    """The zone columns of an OnStreetParking entity (``unwrap`` reads an NGSI attribute), or
    None when its location is not a usable geometry. ``residents_only`` says whether to drop it."""
    line = _line(unwrap(ent.get("location")))
    if line is None:
        return None
    cats = {str(c).lower() for c in categories}
    charge = unwrap(ent.get("chargeType")) or []
    charge = {str(c).lower() for c in ([charge] if isinstance(charge, str) else charge)}
    fee = (0 if charge == {"free"} else 1 if charge else
           1 if "feecharged" in cats else 0 if "free" in cats else -1)
    permit = unwrap(ent.get("requiredPermit"))
    address = unwrap(ent.get("address"))
    street = address.get("streetAddress", "") if isinstance(address, dict) else ""
    maxstay = iso_duration_s(unwrap(ent.get("maximumParkingDuration")))
    return {"side": ZONE_SIDE_UNKNOWN, "length_m": math.nan, "fee": fee,
            "maxstay_s": maxstay if math.isfinite(maxstay) else math.inf,
            "street_name": str(street or ""), "capacity_estimated": False,
            "line_lon": line[0], "line_lat": line[1],
            "residents_only": "onlyresidents" in cats or bool(permit)}
