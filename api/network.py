"""``/api/v1/info`` and ``/api/v1/network``: what the bundle holds, and its streets as GeoJSON.

The street GeoJSON is the map background of the demo page (there is no tile server): the graph's
directed edges are folded into undirected segments, the segments of each OSM way merged into
lines (``shapely.line_merge``), simplified (Douglas-Peucker in metres) and rounded. It is built
once when the network loads and served with an ETag (304 on ``If-None-Match``) and gzip when the
client accepts it.
"""
from __future__ import annotations

import gzip
import json

import numpy as np
import shapely
from flask import Response, request
from flask_smorest import Blueprint

from api import schemas
from api.state import app_state
from api.timeutil import day_to_iso, default_departure
from engine.model import Mode, Network


def street_geojson(network: Network, *, decimals: int = 5, simplify_m: float = 1.0
                   ) -> tuple[bytes, bytes]:
    """(JSON bytes, gzip bytes) of a FeatureCollection with one feature per OSM way.

    Properties: ``highway``, ``name``, ``bike_lane`` (some edge of the way is a bike lane),
    ``car`` (cars may use some edge of it). Coordinates are lon/lat rounded to ``decimals``.
    """
    features: list[dict] = []
    sg = network.street
    if sg is not None and sg.n_edges:
        tail = np.asarray(sg.edge_tail, dtype=np.int64)
        head = np.asarray(sg.indices, dtype=np.int64)
        way = np.asarray(sg.edge_way_idx, dtype=np.int64)
        lo, hi = np.minimum(tail, head), np.maximum(tail, head)
        keep = lo != hi
        key = np.stack([way[keep], lo[keep], hi[keep]], axis=1)
        pairs, first = np.unique(key, axis=0, return_index=True)  # sorted by way, one per segment
        edge_of_pair = np.flatnonzero(keep)[first]
        seg_way = pairs[:, 0]
        x = np.asarray(sg.node_x_m)
        y = np.asarray(sg.node_y_m)
        coords = np.empty((2 * len(pairs), 2))
        coords[0::2, 0], coords[0::2, 1] = x[pairs[:, 1]], y[pairs[:, 1]]
        coords[1::2, 0], coords[1::2, 1] = x[pairs[:, 2]], y[pairs[:, 2]]
        segments = shapely.linestrings(coords, indices=np.repeat(np.arange(len(pairs)), 2))
        ways, way_pos = np.unique(seg_way, return_inverse=True)
        merged = shapely.line_merge(shapely.multilinestrings(segments, indices=way_pos))
        if simplify_m > 0:
            merged = shapely.simplify(merged, simplify_m, preserve_topology=False)
        bike = np.zeros(len(ways), dtype=bool)
        np.logical_or.at(bike, way_pos, np.asarray(sg.edge_is_bike_lane)[edge_of_pair])
        car_ok = np.isfinite(np.asarray(sg.cost_s(Mode.CAR)))
        # a segment is drivable if either of its directed edges is
        drivable = _rows_in(pairs, key[car_ok[keep]])
        car = np.zeros(len(ways), dtype=bool)
        np.logical_or.at(car, way_pos, drivable)
        parts, part_way = shapely.get_parts(merged, return_index=True)
        xy, part_of_point = shapely.get_coordinates(parts, return_index=True)
        lon, lat = network.projection.to_lonlat(xy[:, 0], xy[:, 1])
        lonlat = np.round(np.column_stack([lon, lat]), decimals)
        bounds = np.r_[0, np.flatnonzero(np.diff(part_of_point)) + 1, len(part_of_point)]
        lines_of_way: list[list] = [[] for _ in range(len(ways))]
        for p in range(len(parts)):
            line = lonlat[bounds[p]:bounds[p + 1]].tolist()
            if len(line) >= 2:
                lines_of_way[int(part_way[p])].append(line)
        names = np.asarray(sg.way_name)
        highways = np.asarray(sg.way_highway)
        for w, lines in enumerate(lines_of_way):
            if not lines:
                continue
            way_idx = int(ways[w])
            geometry = ({"type": "LineString", "coordinates": lines[0]} if len(lines) == 1
                        else {"type": "MultiLineString", "coordinates": lines})
            features.append({
                "type": "Feature", "geometry": geometry,
                "properties": {"highway": str(highways[way_idx]) if way_idx < len(highways) else "",
                               "name": str(names[way_idx]) if way_idx < len(names) else "",
                               "bike_lane": bool(bike[w]), "car": bool(car[w])}})
    body = json.dumps({"type": "FeatureCollection", "features": features},
                      separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return body, gzip.compress(body, compresslevel=6, mtime=0)


def _rows_in(rows: np.ndarray, table: np.ndarray) -> np.ndarray:
    """For each row of ``rows`` (int64, 3 columns), whether it occurs in ``table``."""
    def as_void(a):
        a = np.ascontiguousarray(a, dtype=np.int64)
        return a.view(np.dtype((np.void, a.dtype.itemsize * a.shape[1]))).ravel()
    return np.isin(as_void(rows), as_void(table))


def make_blueprint() -> Blueprint:
    blp = Blueprint("network", __name__, url_prefix="/api/v1",
                    description="What the loaded bundle holds, and its streets for the map")

    @blp.get("/info")
    @blp.response(200, schemas.InfoSchema)
    def info():
        """Bundle counts, service period, timezone, bbox and data version."""
        state = app_state()
        loaded = state.require()
        manifest = loaded.manifest
        counts = manifest.get("counts", {})
        network = loaded.network
        service = None
        if network.timetable is not None:
            period = network.timetable.service_period_days()
            if period is not None:
                service = {"start": day_to_iso(period[0]), "end": day_to_iso(period[1])}
        tt = network.timetable
        when, note = default_departure(network.timezone, None if tt is None else tt.service_active,
                                       0 if tt is None else tt.service_first_day, state.clock())
        return {
            "data_version": loaded.data_version,
            "format_version": manifest.get("format_version"),
            "built_at_utc": manifest.get("built_at_utc"),
            "timezone": network.timezone,
            "bbox": [float(v) for v in network.bbox],
            "service_period": service,
            "counts": {k: v for k, v in counts.items()
                       if isinstance(v, int | float) and not isinstance(v, bool)},
            "feeds": list(counts.get("feeds", [])),
            "live_observations": int(loaded.live.history().n_observations),
            "skipped_observations": loaded.live.skipped,
            "ingest_enabled": state.config.ingest_token is not None,
            "suggested_departure": {"datetime": when.isoformat(timespec="minutes"), "note": note},
            "limits": {"max_itineraries": state.config.max_itineraries,
                       "max_window_min": state.config.max_window_min,
                       "max_isochrone_minutes": state.config.max_isochrone_minutes,
                       "max_body_bytes": state.config.max_body_bytes,
                       "request_time_budget_s": state.config.request_time_budget_s},
        }

    @blp.get("/network")
    @blp.response(200, schemas.FeatureCollectionSchema, content_type="application/geo+json",
                  description="The street network as simplified GeoJSON (one feature per way)")
    @blp.alt_response(304, description="Not modified (the ETag matched)")
    def street_network():
        """The street network as simplified GeoJSON LineStrings, for the map background."""
        loaded = app_state().require()
        etag = loaded.network_etag
        if etag in request.if_none_match:
            response = Response(status=304)
            response.set_etag(etag)
            return response
        accepts_gzip = "gzip" in request.accept_encodings
        body = loaded.network_geojson_gzip if accepts_gzip else loaded.network_geojson
        response = Response(body, mimetype="application/geo+json")
        if accepts_gzip:
            response.headers["Content-Encoding"] = "gzip"
        response.headers["Vary"] = "Accept-Encoding"
        response.headers["Cache-Control"] = "public, max-age=300"
        response.set_etag(etag)
        return response

    return blp
