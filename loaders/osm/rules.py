"""Who may use an OSM way, in which direction, on which bike lanes and at what car speed.

Who may use a way (a simplified version of OpenTripPlanner's default way-property set)
-----------------------------------------------------------------------------------------
Class defaults by ``highway`` value (W walk, B bicycle, C car; fallback car speed in km/h):

=================================================  ===  ===  ===  ==========================
highway                                             W    B    C    car km/h (no maxspeed)
=================================================  ===  ===  ===  ==========================
motorway / motorway_link                            -    -    x    110 / 60 (implied oneway)
trunk / trunk_link                                  -    -    x    90 / 50
primary / primary_link                              x    x    x    50 / 40
secondary / secondary_link                          x    x    x    50 / 40
tertiary / tertiary_link                            x    x    x    40 / 30
unclassified, residential, road                     x    x    x    30
living_street                                       x    x    x    10
service                                             x    x    x    15
track                                               x    x    x    15
cycleway, path                                      x    x    -
pedestrian, footway, steps, corridor, platform,     x    -    -
bridleway
busway                                              -    -    -    (only mode tags open it)
anything else (construction, proposed, raceway...)  not routable: dropped, counted per value
=================================================  ===  ===  ===  ==========================

Access tags, most specific first: walk ``foot`` > ``access``; bicycle ``bicycle`` > ``vehicle`` >
``access``; car ``motorcar`` > ``motor_vehicle`` > ``vehicle`` > ``access``. Only the first of
them with a known value counts. Allowing values: ``yes designated permissive destination
delivery customers official discouraged dismount``; forbidding values: ``no private
agricultural forestry use_sidepath permit emergency military restricted``. A generic tag
(``access``, ``vehicle``) can take a mode away but not grant a mode the class forbids (so
``access=yes`` does not open a motorway to walkers); ``foot``, ``bicycle``, ``motorcar`` and
``motor_vehicle`` can grant it. ``bicycle=dismount`` (and any bicycle permission on ``steps``, or
``ramp:bicycle=yes``) means the bicycle is pushed: bike time = walk time of the edge. Without such
a tag, bicycles may not use steps (``inf``), so bike routes never climb stairs by surprise.

Directions:

* ``oneway=yes|true|1`` forward only, ``-1|reverse`` backward only, ``no|false|0`` both (this
  also cancels an implied oneway). Implied oneway: ``junction=roundabout|circular`` and
  ``highway=motorway|motorway_link``. ``oneway=reversible|alternating``: no car nor bicycle (the
  direction depends on the time). Other values: two-way, warning ``invalid_oneway``.
* The oneway applies to cars and bicycles. Bicycles: ``oneway:bicycle`` overrides it (``no`` =
  contraflow); ``cycleway=opposite|opposite_lane|opposite_track|opposite_share_busway`` and any
  cycle lane serving the opposite direction (below) also allow contraflow.
* Pedestrians walk both ways, unless ``oneway:foot`` says otherwise.
* Closed ``area=yes`` pedestrian ways: walkers follow their outline, like any other way.

Bike lanes (``edge_is_bike_lane``, only on directions bicycles may ride): ``highway=cycleway``
both ways; ``bicycle=designated`` on path, footway, pedestrian, track, bridleway both ways;
``cycleway`` / ``cycleway:both`` / ``cycleway:left`` / ``cycleway:right`` with a value among
``lane track share_busway`` (and their ``opposite_*`` forms). Direction, assuming right-hand
traffic: on a oneway road a side lane follows the traffic; on a two-way road ``right`` is forward,
``left`` backward and ``both`` / plain ``cycleway`` both; ``opposite_*`` runs against the traffic;
``cycleway:<side>:oneway`` (``yes``, ``-1``, ``no``) overrides. ``shared_lane`` (sharrows painted on
the general lane) is not a bike lane; ``share_busway`` (a bus lane open to bicycles) is.

Car speeds: ``maxspeed:forward`` / ``maxspeed:backward``, else ``maxspeed``, else a zone tag
(``maxspeed:type``, ``source:maxspeed``, ``zone:maxspeed``), else the class fallback above
(read by :func:`~loaders.osm.tags.parse_maxspeed_kmh`).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.model import Mode
from loaders.osm.tags import _first_value, parse_maxspeed_kmh

STEPS_WALK_FACTOR = 2.0
"""Walking (or pushing a bicycle) on ``highway=steps`` takes this many times the flat time."""

# highway -> (walk, bicycle, car, fallback car speed km/h)
HIGHWAY_CLASSES: dict[str, tuple[bool, bool, bool, float]] = {
    "motorway": (False, False, True, 110.0),
    "motorway_link": (False, False, True, 60.0),
    "trunk": (False, False, True, 90.0),
    "trunk_link": (False, False, True, 50.0),
    "primary": (True, True, True, 50.0),
    "primary_link": (True, True, True, 40.0),
    "secondary": (True, True, True, 50.0),
    "secondary_link": (True, True, True, 40.0),
    "tertiary": (True, True, True, 40.0),
    "tertiary_link": (True, True, True, 30.0),
    "unclassified": (True, True, True, 30.0),
    "residential": (True, True, True, 30.0),
    "road": (True, True, True, 30.0),
    "living_street": (True, True, True, 10.0),
    "service": (True, True, True, 15.0),
    "track": (True, True, True, 15.0),
    "cycleway": (True, True, False, 10.0),
    "path": (True, True, False, 10.0),
    "pedestrian": (True, False, False, 10.0),
    "footway": (True, False, False, 10.0),
    "steps": (True, False, False, 10.0),
    "corridor": (True, False, False, 10.0),
    "platform": (True, False, False, 10.0),
    "bridleway": (True, False, False, 10.0),
    "busway": (False, False, False, 30.0),
}
"""Class defaults; the speed is used when a car may use the way and no maxspeed applies."""

_ALLOW = frozenset({"yes", "designated", "permissive", "destination", "delivery", "customers",
                    "official", "discouraged", "dismount"})
_DENY = frozenset({"no", "private", "agricultural", "forestry", "use_sidepath", "permit",
                   "emergency", "military", "restricted"})
_ACCESS_CHAINS = {  # most specific first; the first key marks the tag that may grant the mode
    Mode.WALK: ("foot", "access"),
    Mode.BICYCLE: ("bicycle", "vehicle", "access"),
    Mode.CAR: ("motorcar", "motor_vehicle", "vehicle", "access"),
}
_GRANTING_KEYS = frozenset({"foot", "bicycle", "motorcar", "motor_vehicle"})

_ONEWAY_FORWARD = frozenset({"yes", "true", "1"})
_ONEWAY_BACKWARD = frozenset({"-1", "reverse"})
_ONEWAY_NO = frozenset({"no", "false", "0"})
_ONEWAY_TIMED = frozenset({"reversible", "alternating"})
_BIKE_LANE_VALUES = frozenset({"lane", "track", "share_busway"})
_BIKE_LANE_OPPOSITE = frozenset({"opposite_lane", "opposite_track", "opposite_share_busway"})
_BIKE_DESIGNATED_CLASSES = frozenset({"path", "footway", "pedestrian", "track", "bridleway"})


def _mode_allowed(tags: Mapping[str, str], mode: Mode, default: bool) -> bool:
    """Permission of one mode on a way from its access tags (most specific known value wins)."""
    for key in _ACCESS_CHAINS[mode]:
        value = _first_value(tags, key)
        if value in _ALLOW:
            return default or key in _GRANTING_KEYS
        if value in _DENY:
            return False
    return default


def _oneway(value: str | None) -> tuple[bool, bool] | None:
    """(forward allowed, backward allowed) for a oneway-like value; None when absent/unknown."""
    if value in _ONEWAY_FORWARD:
        return True, False
    if value in _ONEWAY_BACKWARD:
        return False, True
    if value in _ONEWAY_NO:
        return True, True
    if value in _ONEWAY_TIMED:
        return False, False
    return None


@dataclass(frozen=True)
class WayRules:
    """What a routable way allows, per direction ((forward, backward) along its node order)."""

    highway: str
    walk: tuple[bool, bool]
    bike: tuple[bool, bool]
    car: tuple[bool, bool]
    bike_lane: tuple[bool, bool]
    bike_pushed: bool                   # bicycle at walking time (dismount, steps)
    walk_factor: float                  # multiplier on walking time (steps)
    car_kmh: tuple[float, float]        # speed limit or fallback per direction (km/h)

    @property
    def any_mode(self) -> bool:
        return any(self.walk + self.bike + self.car)


def way_rules(tags: Mapping[str, str], warn=None) -> WayRules | None:
    """Per-mode permissions, directions, bike lanes and car speed of one OSM way.

    ``tags`` maps OSM keys to values. Returns None when the ``highway`` value is not routable
    (see :data:`HIGHWAY_CLASSES`). ``warn(code, key, value)`` is called for tag values that could
    not be read (``invalid_maxspeed``, ``invalid_oneway``); they fall back to the documented
    defaults.
    """
    highway = tags.get("highway", "").strip().lower()
    if highway not in HIGHWAY_CLASSES:
        return None
    walk_ok, bike_ok, car_ok, bike_pushed = _permissions(tags, highway)
    vehicle_dir = _vehicle_direction(tags, highway, warn)
    lane_fwd, lane_bwd, contraflow = _bike_lanes(tags, highway, vehicle_dir)
    bike_dir = _bike_direction(tags, vehicle_dir, contraflow)
    foot_dir = _oneway(_first_value(tags, "oneway:foot"))
    walk_dir = foot_dir if foot_dir is not None else (True, True)

    walk = (walk_ok and walk_dir[0], walk_ok and walk_dir[1])
    bike = (bike_ok and bike_dir[0], bike_ok and bike_dir[1])
    car = (car_ok and vehicle_dir[0], car_ok and vehicle_dir[1])
    bike_lane = (lane_fwd and bike[0] and not bike_pushed, lane_bwd and bike[1] and not bike_pushed)

    fallback_kmh = HIGHWAY_CLASSES[highway][3]
    car_kmh = (fallback_kmh, fallback_kmh)
    if any(car):
        car_kmh = _car_speeds_kmh(tags, fallback_kmh, warn)
    return WayRules(highway=highway, walk=walk, bike=bike, car=car, bike_lane=bike_lane,
                    bike_pushed=bike_pushed,
                    walk_factor=STEPS_WALK_FACTOR if highway == "steps" else 1.0,
                    car_kmh=car_kmh)


def _permissions(tags: Mapping[str, str], highway: str) -> tuple[bool, bool, bool, bool]:
    """(walk allowed, bicycle allowed, car allowed, bicycle pushed) on a way of a routable class,
    from the class defaults and the access tags, before directions."""
    walk_default, bike_default, car_default, _ = HIGHWAY_CLASSES[highway]
    walk_ok = _mode_allowed(tags, Mode.WALK, walk_default)
    car_ok = _mode_allowed(tags, Mode.CAR, car_default)
    bike_value = _first_value(tags, "bicycle")
    ramp = _first_value(tags, "ramp:bicycle") == "yes"
    bike_ok = _mode_allowed(tags, Mode.BICYCLE, bike_default) or (highway == "steps" and ramp)
    bike_pushed = bike_value == "dismount" or highway == "steps"
    if highway == "steps" and bike_value not in _ALLOW and not ramp:
        bike_ok = False  # carrying a bike up stairs needs an explicit tag
    return walk_ok, bike_ok, car_ok, bike_pushed


def _vehicle_direction(tags: Mapping[str, str], highway: str, warn) -> tuple[bool, bool]:
    """(forward, backward) allowed to vehicles: cars, and bicycles unless overridden."""
    oneway_raw = _first_value(tags, "oneway")
    vehicle_dir = _oneway(oneway_raw)
    if oneway_raw is not None and vehicle_dir is None and warn is not None:
        warn("invalid_oneway", "oneway", tags.get("oneway"))
    if vehicle_dir is None:
        implied = (_first_value(tags, "junction") in ("roundabout", "circular")
                   or highway in ("motorway", "motorway_link"))
        vehicle_dir = (True, False) if implied else (True, True)
    return vehicle_dir


def _bike_lanes(tags: Mapping[str, str], highway: str,
                vehicle_dir: tuple[bool, bool]) -> tuple[bool, bool, bool]:
    """(forward, backward) directions served by a lane or track, and whether a lane or an
    ``opposite`` tag lets bicycles ride against a oneway (contraflow)."""
    road_oneway = vehicle_dir != (True, True)
    lane_fwd = lane_bwd = False
    if highway == "cycleway" or (highway in _BIKE_DESIGNATED_CLASSES
                                 and _first_value(tags, "bicycle") == "designated"):
        lane_fwd = lane_bwd = True
    traffic = vehicle_dir if road_oneway and any(vehicle_dir) else None  # direction of traffic
    opposite = (not traffic[0], not traffic[1]) if traffic else (False, True)
    contraflow = False
    for key, two_way_dir in (("cycleway", (True, True)), ("cycleway:both", (True, True)),
                             ("cycleway:right", (True, False)), ("cycleway:left", (False, True))):
        value = _first_value(tags, key)
        if value is None:
            continue
        if value == "opposite":
            contraflow = True
            continue
        if value in _BIKE_LANE_OPPOSITE:
            served = opposite
        elif value in _BIKE_LANE_VALUES:
            served = traffic if traffic else two_way_dir
            side_oneway = _oneway(_first_value(tags, f"{key}:oneway")) if key != "cycleway" else None
            if side_oneway is not None and any(side_oneway):
                served = side_oneway
        else:
            continue  # no, separate, shared_lane, crossing...: no lane on this way
        lane_fwd |= served[0]
        lane_bwd |= served[1]
        if traffic and ((served[0] and not traffic[0]) or (served[1] and not traffic[1])):
            contraflow = True
    return lane_fwd, lane_bwd, contraflow


def _bike_direction(tags: Mapping[str, str], vehicle_dir: tuple[bool, bool],
                    contraflow: bool) -> tuple[bool, bool]:
    """(forward, backward) allowed to bicycles: ``oneway:bicycle``, else both ways on a
    contraflow, else the vehicles' direction."""
    bike_oneway = _oneway(_first_value(tags, "oneway:bicycle"))
    if bike_oneway is not None:
        return bike_oneway
    if contraflow:
        return (True, True)
    return vehicle_dir


def _car_speeds_kmh(tags: Mapping[str, str], fallback_kmh: float, warn) -> tuple[float, float]:
    """(forward, backward) speed limit in km/h, from maxspeed tags or the class fallback."""
    def read(key: str) -> float | None:
        value = tags.get(key)
        if value is None:
            return None
        try:
            return parse_maxspeed_kmh(value)
        except ValueError:
            if warn is not None:
                warn("invalid_maxspeed", key, value)
            return None

    general = read("maxspeed")
    if general is None and "maxspeed" not in tags:
        for key in ("maxspeed:type", "source:maxspeed", "zone:maxspeed"):
            value = tags.get(key)
            if value is not None:
                try:
                    general = parse_maxspeed_kmh(value)
                except ValueError:
                    general = None  # these keys often hold free text ("sign", "survey")
                if general is not None:
                    break
    forward = read("maxspeed:forward")
    backward = read("maxspeed:backward")
    base = general if general is not None else fallback_kmh
    return (forward if forward is not None else base, backward if backward is not None else base)

