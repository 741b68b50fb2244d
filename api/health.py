"""``/healthz`` (the process answers) and ``/readyz`` (the network is loaded and served)."""
from __future__ import annotations

from flask_smorest import Blueprint

from api import schemas
from api.errors import ErrorSchema
from api.state import app_state


def make_blueprint() -> Blueprint:
    blp = Blueprint("health", __name__, description="Liveness and readiness probes")

    @blp.get("/healthz")
    @blp.response(200, schemas.HealthSchema)
    def healthz():
        """The process is alive (answers at once, even while the network loads)."""
        return {"status": "ok"}

    @blp.get("/readyz")
    @blp.response(200, schemas.ReadySchema)
    @blp.alt_response(503, schema=ErrorSchema,
                      description="NOT_READY while loading, BUNDLE_ERROR if loading failed")
    def readyz():
        """200 once the network is loaded; 503 before (or if it could not be loaded)."""
        loaded = app_state().require()
        return {"status": "ready", "data_version": loaded.data_version,
                "loaded_in_s": loaded.loaded_in_s}

    return blp
