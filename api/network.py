"""``/api/v1/info`` and ``/api/v1/network``: what the bundle holds, and its streets as GeoJSON.

The street GeoJSON is the map background of the demo page (there is no tile server): the graph's
directed edges are folded into undirected segments, the segments of each OSM way merged into
lines (``shapely.line_merge``), simplified (Douglas-Peucker in metres) and rounded. It is built
(:func:`api.geojson.street_geojson`) once when the network loads and served with an ETag (304 on
``If-None-Match``) and gzip when the client accepts it.
"""
from __future__ import annotations

import numpy as np
from flask import Response, request
from flask_smorest import Blueprint

from api import schemas
from api.feeds import feeds_info
from api.geojson import street_geojson
from api.state import app_state
from api.timeutil import day_to_iso, default_departure

__all__ = ["make_blueprint", "street_geojson"]  # street_geojson: its former home


def make_blueprint() -> Blueprint:
    blp = Blueprint("network", __name__, url_prefix="/api/v1",
                    description="What the loaded bundle holds, and its streets for the map")

    @blp.get("/info")
    @blp.response(200, schemas.InfoSchema)
    def info():
        """Bundle counts, service period, timezone, bbox and data version; the state of the
        GTFS-Realtime feeds and of the live occupancy feeds (``live_feeds``)."""
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
            "recommendations": (None if loaded.recommendations is None else
                                {"pending": loaded.recommendations.pending(int(state.clock())).n_rows,
                                 "compliance_share": state.config.compliance_share}),
            "ingest_enabled": state.config.ingest_token is not None,
            "suggested_departure": {"datetime": when.isoformat(timespec="minutes"), "note": note},
            # the days with any service: the page drops its "no service" note on these
            "served_days": [] if tt is None else [
                day_to_iso(int(d) + tt.service_first_day)
                for d in np.flatnonzero(np.asarray(tt.service_active).any(axis=0))],
            "realtime": loaded.realtime.info() if loaded.realtime is not None else None,
            "live_feeds": feeds_info(state.config, state.clock()),
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
