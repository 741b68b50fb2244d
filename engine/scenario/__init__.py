"""Planner scenarios: modifications applied copy-on-write to a loaded :class:`Network`.

A *scenario* is an ordered list of modifications ("what if this car park closes, this bus line
runs every 5 minutes at peak, this bike lane opens"). Each modification

1. checks its own fields when it is built (a headway of 0, an empty polygon, a negative capacity
   are refused at once);
2. is validated against the network it is about to change (:meth:`Modification.validate`):
   unknown route, stop, facility or way ids, a polygon that holds no street, a time window in
   which a route has no trip to copy;
3. is applied (:meth:`Modification.apply`), returning a *new* Network that shares every array it
   did not change (the street topology, the timetable of a scenario that only touches parking...)
   and a :class:`Change` saying what it touched ("closes 1 car park (Parking du Casino)").

Problems raise :class:`ScenarioError` naming the modification (its position in the scenario and
its kind) and the field. Nothing here reads files: ``api.scenario_io`` turns YAML/JSON into the
same objects with :func:`modification_from_dict`, and resolves the one modification that needs
geometry matching beyond a point-in-polygon test (``add-bike-lane``: the loaders match a line to
street edges with shapely, exactly as the build marks published bike lanes).

One module per subject:

* ``base``             ScenarioError, Change (the report), the Modification base
* ``fields``           parsers of modification fields (times, ids, modes, polygons)
* ``lookups``          routes, facilities, timetable and street lookups that raise ScenarioError
* ``geometry``         points and street edges inside a polygon
* ``parking``          close-parking, set-parking-capacity, scale-parking-demand
* ``parking_profile``  the occupancy profile refitted or reshaped for a new capacity or demand
* ``timetable``        rebuilding a timetable from edited trips or footpaths
* ``transit``          adjust-frequency, remove-route, remove-stop
* ``street``           add-bike-lane, set-car-speed, close-street
* ``scenario``         Scenario and the dict form of a modification (:func:`modification_from_dict`)
"""
from engine.scenario.base import Change, Modification, ScenarioError
from engine.scenario.fields import parse_time_s
from engine.scenario.geometry import edges_in_polygon, points_in_polygon
from engine.scenario.lookups import facility_indices, line_index
from engine.scenario.parking import CAR_KINDS, CloseParking, ScaleParkingDemand, SetParkingCapacity
from engine.scenario.parking_profile import refit_profile, reshape_profile
from engine.scenario.scenario import MODIFICATIONS, Scenario, modification_from_dict
from engine.scenario.street import AddBikeLane, CloseStreet, SetCarSpeed
from engine.scenario.timetable import rebuild_footpaths, rebuild_timetable
from engine.scenario.transit import AdjustFrequency, RemoveRoute, RemoveStop

__all__ = [
    "ScenarioError", "Change", "Modification", "CloseParking", "SetParkingCapacity",
    "ScaleParkingDemand", "AdjustFrequency", "RemoveRoute", "RemoveStop", "AddBikeLane",
    "SetCarSpeed", "CloseStreet", "Scenario", "MODIFICATIONS", "modification_from_dict",
    "reshape_profile", "refit_profile", "rebuild_timetable", "rebuild_footpaths", "points_in_polygon",
    "edges_in_polygon", "parse_time_s", "line_index", "facility_indices", "CAR_KINDS",
]
