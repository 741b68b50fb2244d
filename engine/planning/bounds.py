"""Where a network's area ends: whether a point lies in it, and whether a point given outside it
was meant the other way round (latitude and longitude swapped), for the planner, the API and the
CLI alike.
"""
from __future__ import annotations

from engine.model import Network

COORDINATES_SWAPPED = "COORDINATES_SWAPPED"
"""Reason code of a point outside the network whose swapped coordinates lie inside it."""


def inside(network: Network, lon: float, lat: float, margin_m: float) -> bool:
    """Whether (lon, lat) (degrees) lies within the network's bounding box plus ``margin_m``."""
    min_lon, min_lat, max_lon, max_lat = network.bbox
    mx, my = network.projection.metres_per_degree
    return (min_lon - margin_m / mx <= lon <= max_lon + margin_m / mx
            and min_lat - margin_m / my <= lat <= max_lat + margin_m / my)


def coordinates_swapped(network: Network, lon: float, lat: float, margin_m: float) -> bool:
    """Whether the point (lon, lat) lies outside the network's area (bounding box plus
    ``margin_m``) while (lon = lat, lat = lon) lies inside: the two were given the wrong way
    round."""
    return not inside(network, lon, lat, margin_m) and inside(network, lat, lon, margin_m)


def swapped_message(name: str, lat: float, lon: float) -> str:
    """What to tell a user who gave ``name`` as ``lat,lon`` (as they typed it) the wrong way round."""
    return (f"{name}={lat:g},{lon:g} lies outside the network but {lon:g},{lat:g} lies inside: "
            "the order is 'lat,lon'")
