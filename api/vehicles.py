"""``/api/v1/vehicles``: the vehicle positions of the real-time feeds (``trajet serve
--realtime``), optionally of one route or trip, for the page's markers."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.state import app_state

GTFS_ID_PATTERN = r"^[ -~]{1,255}$"
"""A GTFS id as the query parameter takes it: printable ASCII (the request guards refuse control
characters and non-ASCII digits in any parameter, so the document says so)."""


class VehiclesArgs(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    route = fields.String(load_default=None, validate=validate.Regexp(GTFS_ID_PATTERN),
                          metadata={"description": "A GTFS route_id", "pattern": GTFS_ID_PATTERN})
    trip = fields.String(load_default=None, validate=validate.Regexp(GTFS_ID_PATTERN),
                         metadata={"description": "A GTFS trip_id", "pattern": GTFS_ID_PATTERN})


class VehiclesResponse(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    vehicles = fields.List(fields.Dict(), required=True)
    count = fields.Integer(required=True)


def make_blueprint() -> Blueprint:
    blp = Blueprint("vehicles", __name__, url_prefix="/api/v1",
                    description="Vehicle positions from GTFS-Realtime")

    @blp.get("/vehicles")
    @blp.arguments(VehiclesArgs, location="query", unknown=ma.RAISE)
    @blp.response(200, VehiclesResponse)
    def vehicles(args):
        """Vehicles (id, label, lon, lat, bearing, route_id, trip_id, stop_id, status, timestamp);
        an empty list without real-time feeds."""
        loaded = app_state().require()
        items = ([] if loaded.realtime is None
                 else loaded.realtime.vehicles(route_id=args["route"], trip_id=args["trip"]))
        return {"vehicles": items, "count": len(items)}

    return blp
