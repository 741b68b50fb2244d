"""``/api/v1/vehicles``: the vehicle positions of the real-time feeds (``trajet serve
--realtime``), optionally of one route or trip, for the page's markers."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields

from api.state import app_state


class VehiclesArgs(ma.Schema):
    route = fields.String(load_default=None, metadata={"description": "A GTFS route_id"})
    trip = fields.String(load_default=None, metadata={"description": "A GTFS trip_id"})


def make_blueprint() -> Blueprint:
    blp = Blueprint("vehicles", __name__, url_prefix="/api/v1",
                    description="Vehicle positions from GTFS-Realtime")

    @blp.get("/vehicles")
    @blp.arguments(VehiclesArgs, location="query", unknown=ma.RAISE)
    def vehicles(args):
        """Vehicles (id, label, lon, lat, bearing, route_id, trip_id, stop_id, status, timestamp);
        an empty list without real-time feeds."""
        loaded = app_state().require()
        items = ([] if loaded.realtime is None
                 else loaded.realtime.vehicles(route_id=args["route"], trip_id=args["trip"]))
        return {"vehicles": items, "count": len(items)}

    return blp
