"""``/api/v1/stops``: transit stops near a point (KD-tree in metres), or all of them, as GeoJSON."""
from __future__ import annotations

import marshmallow as ma
import numpy as np
from flask_smorest import Blueprint

from api import schemas
from api.config import ApiConfig
from api.state import Loaded, app_state


def _route_badges(loaded: Loaded, stop_idx: int) -> list[dict]:
    tt = loaded.network.timetable
    return [{"id": str(tt.line_ids[ln]), "short_name": str(tt.line_short_name[ln]),
             "color": str(tt.line_color[ln]) or None, "text_color": str(tt.line_text_color[ln]) or None,
             "type": int(tt.line_type[ln])}
            for ln in loaded.stops.lines[stop_idx]]


def stop_features(loaded: Loaded, stop_idx: np.ndarray, distance_m: np.ndarray | None) -> list[dict]:
    """GeoJSON Point features of the given stops (properties: id, name, routes, distance_m...)."""
    tt = loaded.network.timetable
    out = []
    for k, s in enumerate(np.asarray(stop_idx).tolist()):
        props = {"id": str(tt.stop_ids[s]), "name": str(tt.stop_name[s]),
                 "location_type": int(tt.stop_location_type[s]),
                 "wheelchair": int(tt.stop_wheelchair[s]),
                 "routes": _route_badges(loaded, s)}
        if distance_m is not None:
            props["distance_m"] = round(float(distance_m[k]), 1)
        out.append({"type": "Feature", "id": props["id"],
                    "geometry": {"type": "Point", "coordinates": [round(float(tt.stop_lon[s]), 6),
                                                                  round(float(tt.stop_lat[s]), 6)]},
                    "properties": props})
    return out


def make_blueprint(config: ApiConfig) -> Blueprint:
    blp = Blueprint("stops", __name__, url_prefix="/api/v1", description="Transit stops")

    @blp.get("/stops")
    @blp.arguments(schemas.stops_args_schema(config), location="query", as_kwargs=True,
                   unknown=ma.RAISE)
    @blp.response(200, schemas.FeatureCollectionSchema)
    def stops(near, radius, limit):
        """Stops within ``radius`` metres of ``near`` (nearest first), or every stop."""
        loaded = app_state().require()
        index = loaded.stops
        if index.tree is None:
            return {"type": "FeatureCollection", "features": []}
        if near is None:
            return {"type": "FeatureCollection",
                    "features": stop_features(loaded, index.stop_idx[:limit], None)}
        lat, lon = near
        x, y = loaded.network.projection.to_xy_m(lon, lat)
        rows = index.tree.query_ball_point([float(x), float(y)], r=float(radius))
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return {"type": "FeatureCollection", "features": []}
        pts = index.tree.data[rows]
        dist = np.hypot(pts[:, 0] - float(x), pts[:, 1] - float(y))
        order = np.lexsort((rows, dist))[:limit]
        return {"type": "FeatureCollection",
                "features": stop_features(loaded, index.stop_idx[rows[order]], dist[order])}

    return blp
