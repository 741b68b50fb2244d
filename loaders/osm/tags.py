"""OSM tag values read as numbers: speed limits (``maxspeed``) and capacities.

:func:`parse_maxspeed_kmh` reads ``50``, ``50 mph`` (80.47 km/h), ``50 knots``, ``30;50`` (the
lowest: the conservative reading), ``walk`` (6 km/h), country zones like ``FR:urban`` (50),
``FR:rural`` (80), ``RU:rural`` (90), ``DE:zone30``, ``zone:30``; ``none``, ``signals`` and
``variable`` fall back to the class speed; anything else (``sign``, ``0``, ``fast``) falls back
to the class speed with an ``invalid_maxspeed`` warning (see ``rules.py`` for which tags are read
and ``graph.py`` for the costs).
"""
from __future__ import annotations

import re
from collections.abc import Mapping

WALKING_PACE_KMH = 6.0
"""Speed of ``maxspeed=walk``."""

# Country zone speeds (km/h) for maxspeed values like "FR:urban"; "*" holds the defaults used
# for countries not listed. None = no general limit (class fallback).
_ZONE_KMH: dict[str, dict[str, float | None]] = {
    "*": {"urban": 50, "rural": 90, "motorway": 120, "trunk": 110, "living_street": 20,
          "bicycle_road": 30, "walk": WALKING_PACE_KMH},
    "fr": {"rural": 80, "motorway": 130},
    "ru": {"urban": 60, "motorway": 110},
    "de": {"rural": 100, "motorway": None, "trunk": None, "living_street": WALKING_PACE_KMH},
    "at": {"rural": 100, "motorway": 130},
    "ch": {"rural": 80, "motorway": 120, "trunk": 100},
    "it": {"motorway": 130},
    "es": {"motorway": 120},
    "be": {"rural": 70}, "be-vlg": {"rural": 70}, "be-wal": {"rural": 90}, "be-bru": {"urban": 30},
    "nl": {"rural": 80, "motorway": 100},
    "gb": {"nsl_single": 96.56, "nsl_dual": 112.65, "motorway": 112.65},
    "us": {"urban": 40.23, "rural": 88.51, "motorway": 104.61},
}
_NO_NUMBER = frozenset({"none", "signals", "variable", "unlimited", "no"})
_SPEED_RE = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots)?$")
_ZONE_RE = re.compile(r"^(?:([a-z]{2}(?:-[a-z]{2,3})?):)?(zone|[a-z_]+?):?(\d+)?$")
_UNITS_KMH = {None: 1.0, "km/h": 1.0, "kmh": 1.0, "kph": 1.0, "mph": 1.609344, "knots": 1.852}


def parse_maxspeed_kmh(value: str) -> float | None:
    """The speed limit of an OSM ``maxspeed`` value in km/h, or None when it states no number.

    None (use the class fallback) for ``none``, ``signals``, ``variable`` and zones without a
    general limit (``DE:motorway``). Several values (``30;50``) give the lowest.
    Raises ValueError for values that cannot be read (``sign``, ``0``, ``fast``).

    >>> parse_maxspeed_kmh("50 mph")
    80.4672
    """
    text = value.strip().lower()
    if ";" in text or "|" in text:
        speeds = [parse_maxspeed_kmh(part) for part in re.split(r"[;|]", text) if part.strip()]
        numbers = [s for s in speeds if s is not None]
        return min(numbers) if numbers else None
    if text in _NO_NUMBER:
        return None
    if text == "walk":
        return WALKING_PACE_KMH
    match = _SPEED_RE.match(text)
    if match:
        speed = float(match.group(1).replace(",", ".")) * _UNITS_KMH[match.group(2)]
        if not 0.0 < speed <= 400.0:
            raise ValueError(f"maxspeed {value!r} is not a plausible speed")
        return speed
    match = _ZONE_RE.match(text)
    if match:
        country, zone, digits = match.groups()
        if zone == "zone" or digits:
            if digits and 0 < int(digits) <= 400:
                return float(digits)
            raise ValueError(f"maxspeed zone {value!r} has no speed")
        if country is not None:
            table = _ZONE_KMH.get(country, {})
            parent = _ZONE_KMH.get(country.split("-")[0], {})
            for source in (table, parent, _ZONE_KMH["*"]):
                if zone in source:
                    return source[zone]
    raise ValueError(f"maxspeed {value!r} is not a speed, a known zone, or none/signals")


def parse_capacity(value: str) -> float:
    """Number of spaces in an OSM ``capacity`` value, as a float.

    Accepts ``"120"``, ``" 120 "``, ``"~120"``, ``"ca. 120"``, ``"1 200"``, ``"1,200"`` (one
    number, possibly with thousands separators). Raises ValueError otherwise (``"many"``,
    ``"0"``, ``"10;20"``, ``"-5"``).
    """
    text = value.strip()
    numbers = re.findall(r"\d+(?:[ ,.\u202f]\d{3})*", text)
    if len(numbers) != 1 or "-" in text.replace(numbers[0], ""):
        raise ValueError(f"capacity {value!r} is not one whole number of spaces")
    count = int(re.sub(r"\D", "", numbers[0]))
    if count <= 0:
        raise ValueError(f"capacity {value!r} is not a positive number of spaces")
    return float(count)


def _first_value(tags: Mapping[str, str], key: str) -> str | None:
    value = tags.get(key)
    if value is None:
        return None
    return value.split(";")[0].strip().lower()

