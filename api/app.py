"""The Flask app factory: ``create_app(config)`` -> a WSGI app serving the API and the demo page.

One app serves one bundle. The factory reads the configuration (:mod:`api.config`), registers
one blueprint per resource through flask-smorest (which writes the OpenAPI 3 document at
``/api/v1/openapi.json`` from the same schemas that validate the requests, and serves Swagger UI
at ``/api/v1/docs`` from the npm package installed at set-up: no CDN), installs JSON error
handlers (:mod:`api.errors`), and starts loading the network (:mod:`api.state`).

Run it with ``trajet serve DIR`` (gunicorn), never with Flask's development server.
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, render_template, send_from_directory
from flask_smorest import Api

from api import bikeshare, guards, health, limits, network, parking, parking_zones, plan, stops, vehicles
from api.config import ApiConfig, load_config
from api.errors import ApiError, ErrorSchema, register_error_handlers
from api.state import AppState

API_VERSION = "1"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = PROJECT_ROOT / "node_modules"
# URL name under /static/vendor/ -> folder inside node_modules (packages pinned in package.json)
VENDOR_PACKAGES = {"leaflet": "leaflet/dist", "swagger-ui": "swagger-ui-dist"}

log = logging.getLogger("trajet.api")


class _TrajetApi(Api):
    """flask-smorest's Api documenting our error body; our handlers answer every error."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        register_error_handlers(self._app)


def create_app(config: dict | ApiConfig | None = None) -> Flask:
    """A new app serving the bundle of ``config`` (see :class:`api.config.ApiConfig`).

    Settings come from the defaults, ``$TRAJET_CONFIG``, ``TRAJET_*`` variables and ``config``,
    in that order. Raises :class:`api.config.ConfigError` for an unusable setting. The network
    loads in a background thread (``/readyz`` says when it is ready) unless
    ``load_in_background`` is false.
    """
    cfg = load_config(config)
    app = guards.GuardedFlask("trajet", root_path=str(Path(__file__).parent), static_folder="static",
                template_folder="templates")
    app.config.update(
        DEBUG=False, TESTING=False, PROPAGATE_EXCEPTIONS=False, TRAP_HTTP_EXCEPTIONS=False,
        MAX_CONTENT_LENGTH=cfg.max_body_bytes, JSON_SORT_KEYS=False,
        API_TITLE="trajet", API_VERSION=API_VERSION, OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1", OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs" if cfg.docs else None,
        OPENAPI_SWAGGER_UI_URL="/static/vendor/swagger-ui/",
        API_SPEC_OPTIONS={"info": {"description": (
            "Multimodal itineraries (walk, bike, car with parking, transit and their combinations) "
            "on one city's network. Errors are always JSON {code, message, field}.")}},
    )
    app.json.sort_keys = False
    guards.install(app, max_json_depth=cfg.max_json_depth)
    state = AppState(cfg)
    app.extensions["trajet"] = state

    api = _TrajetApi(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.register_blueprint(health.make_blueprint())
    api.register_blueprint(network.make_blueprint())
    api.register_blueprint(stops.make_blueprint(cfg))
    api.register_blueprint(parking.make_blueprint(cfg))
    api.register_blueprint(bikeshare.make_blueprint())
    api.register_blueprint(parking_zones.make_blueprint(cfg))
    api.register_blueprint(plan.make_blueprint(cfg))
    api.register_blueprint(vehicles.make_blueprint())
    limits.install(app, cfg)

    @app.get("/")
    def index():
        return render_template("index.html", api_version=API_VERSION)

    @app.get("/static/vendor/<package>/<path:filename>")
    def vendor(package: str, filename: str):
        folder = VENDOR_PACKAGES.get(package)
        if folder is None or not (NODE_MODULES / folder).is_dir():
            raise ApiError("NOT_FOUND", f"front-end package {package!r} is not installed; run "
                           "`make vendor` (npm ci) in the project folder", status=404)
        return send_from_directory(NODE_MODULES / folder, filename, max_age=3600)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if cfg.cors_origins:
            from flask import request

            origin = request.headers.get("Origin")
            if origin and (origin in cfg.cors_origins or "*" in cfg.cors_origins):
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Vary"] = "Origin"
        return response

    state.start()
    return app
