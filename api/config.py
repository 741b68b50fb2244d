"""Configuration of the trajet web API: every setting, its default and where it may come from.

One frozen dataclass, :class:`ApiConfig`, holds every limit and path the app uses. Values come,
from weakest to strongest, from:

1. the defaults below;
2. a TOML or JSON file named by ``$TRAJET_CONFIG`` (keys are the field names, e.g.
   ``max_itineraries = 5``);
3. environment variables ``TRAJET_<FIELD NAME IN CAPITALS>`` (e.g. ``TRAJET_BUNDLE_DIR``,
   ``TRAJET_INGEST_TOKEN``, ``TRAJET_MAX_ITINERARIES``);
4. the dict given to ``create_app(config)``.

====================================  ==========================  ====================================
field                                 default                     meaning
====================================  ==========================  ====================================
bundle_dir                            None                        the network bundle to serve
                                                                  (required to be ready)
observations_db                       None -> ``<bundle>.observations.sqlite`` beside the bundle
                                                                  SQLite file of live parking
                                                                  observations (WAL; survives restarts
                                                                  and rebuilds of the bundle)
ingest_token                          None                        bearer token for POST
                                                                  /parking/observations; None
                                                                  disables the endpoint (403)
max_body_bytes                        1,048,576                   larger request bodies get 413
max_json_depth                        32                          deeper JSON bodies get 400
                                                                  JSON_TOO_DEEP (before parsing)
max_observations_per_post             1,000                       items in one POST
future_tolerance_s                    300                         observation timestamps may lie this
                                                                  far in the future (clock skew)
max_observation_age_s                 604,800 (7 days)            older observation timestamps are
                                                                  refused (STALE_TIMESTAMP)
max_capacity_factor                   1.5                         a posted ``capacity`` may exceed the
                                                                  facility's known capacity by this
                                                                  factor at most
max_unknown_capacity                  10,000                      highest ``capacity``/count posted for
                                                                  a facility of unknown capacity
max_itineraries                       10                          ``num_itineraries`` upper bound
max_window_min                        180                         ``window_min`` upper bound
max_isochrone_minutes                 90                          ``minutes`` upper bound
max_transfers                         16                          ``max_transfers`` upper bound
max_walk_m                            10,000                      ``max_walk_m`` upper bound
max_stops_radius_m                    5,000                       ``radius`` upper bound of /stops
max_stops_results                     500                         ``limit`` upper bound of /stops
request_time_budget_s                 10.0                        a plan or isochrone still running
                                                                  after this answers 503
                                                                  TIME_BUDGET_EXCEEDED
max_isochrone_mode_minutes            540 (6 x 90)                modes x minutes of one isochrone;
                                                                  more: 422 TOO_MUCH_WORK
heavy_concurrency                     1                           isochrones computed at once per
                                                                  worker (api.limits)
heavy_queue_wait_s                    10.0                        an isochrone waits this long for its
                                                                  turn, then 503 BUSY
rate_limit                            "" (off)                    per-client limit of every endpoint
                                                                  but /healthz and /readyz, e.g.
                                                                  "120/minute;20/second"
rate_limit_heavy                      "" (off)                    per-client limit of isochrones,
                                                                  e.g. "10/minute"
rate_limit_storage                    memory://                   flask-limiter storage (memory: per
                                                                  worker; redis://... shares them)
compute_threads                       4                           threads running plans/isochrones;
                                                                  requests beyond them queue
network_decimals                      5                           decimals of /network coordinates
                                                                  (5 = about 1 m)
network_simplify_m                    1.0                         Douglas-Peucker tolerance of
                                                                  /network lines, metres (0 = off)
verify_bundle                         True                        check every bundle file's sha256
                                                                  when loading
load_in_background                    True                        load the bundle in a thread
                                                                  (/readyz says when done)
cors_origins                          ()                          origins allowed cross-site; empty:
                                                                  CORS off
docs                                  True                        serve /api/v1/docs (Swagger UI)
realtime_feeds                        ()                          GTFS-Realtime URLs (or files) to
                                                                  poll (api.realtime)
realtime_every_s                      30.0                        seconds between polls
realtime_max_age_s                    300.0                       older feeds are ignored (stale);
                                                                  0: never stale
realtime_timeout_s                    10.0                        timeout of one poll
realtime_max_bytes                    20,971,520                  larger feeds are refused
realtime_state_dir                    None -> ``<observations db>.realtime/`` beside it
                                                                  where polled feeds are written
realtime_poll_in_app                  False                       poll in the app's own process
                                                                  (``trajet serve`` polls in the
                                                                  gunicorn master instead)
feeds                                 ()                          live occupancy feeds to poll,
                                                                  ``KIND=URL[#ROLE=FIELD,...]``,
                                                                  KIND ngsi, ods or gbfs (api.feeds;
                                                                  an env value may be a JSON list)
feeds_every_s                         60.0                        seconds between polls (GBFS: at
                                                                  least each file's ttl)
feeds_timeout_s                       10.0                        timeout of one fetch
feeds_max_bytes                       20,971,520                  larger answers are refused
feeds_stale_factor                    3.0                         a feed is stale when its newest
                                                                  reading (or last good poll) is
                                                                  older than this x its interval
feeds_poll_in_app                     False                       poll in the app's own process
                                                                  (``trajet serve`` runs a feeds
                                                                  process beside gunicorn instead)
recommendations                       True                        record the car parks /plan sends
                                                                  drivers to (api.recommendations,
                                                                  same SQLite file as observations)
                                                                  and take the drivers already sent
                                                                  off the forecast; False: neither
compliance_share                      0.5                         extra cars per driver sent
                                                                  (engine.parking.pending)
mean_stay_s                           7,200 (2 h)                 mean stay of a driver sent
spread_within_s                       120                         drivers are spread by room among
                                                                  car parks this close to the best
recommend_horizon_s                   86,400 (1 day)              plans arriving later than this
                                                                  after now are not recorded
====================================  ==========================  ====================================

Raises :class:`ConfigError` naming the key (and its source) for unknown keys or values of the
wrong type; ``trajet serve`` prints it and exits.
"""
from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from loaders.live_feeds.spec import FeedSpec

ENV_PREFIX = "TRAJET_"
CONFIG_FILE_ENV = "TRAJET_CONFIG"
INT32_MAX = 2**31 - 1
"""The largest count (spaces) the API accepts or reads back: the engine holds counts as int32."""


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the key and its source."""


@dataclass(frozen=True)
class ApiConfig:
    """Every setting of the API (see the module docstring for the table of defaults)."""

    bundle_dir: Path | None = None
    observations_db: Path | None = None
    ingest_token: str | None = None
    max_body_bytes: int = 1 << 20
    max_json_depth: int = 32
    max_observations_per_post: int = 1_000
    future_tolerance_s: int = 300
    max_observation_age_s: int = 7 * 86_400
    max_capacity_factor: float = 1.5
    max_unknown_capacity: int = 10_000
    max_itineraries: int = 10
    max_window_min: int = 180
    max_isochrone_minutes: int = 90
    max_transfers: int = 16
    max_walk_m: int = 10_000
    max_stops_radius_m: int = 5_000
    max_stops_results: int = 500
    request_time_budget_s: float = 10.0
    max_isochrone_mode_minutes: int = 540
    heavy_concurrency: int = 1
    heavy_queue_wait_s: float = 10.0
    rate_limit: str = ""
    rate_limit_heavy: str = ""
    rate_limit_storage: str = "memory://"
    compute_threads: int = 4
    network_decimals: int = 5
    network_simplify_m: float = 1.0
    verify_bundle: bool = True
    load_in_background: bool = True
    cors_origins: tuple[str, ...] = ()
    docs: bool = True
    realtime_feeds: tuple[str, ...] = ()
    realtime_every_s: float = 30.0
    realtime_max_age_s: float = 300.0
    realtime_timeout_s: float = 10.0
    realtime_max_bytes: int = 20 * 1024 * 1024
    realtime_state_dir: Path | None = None
    realtime_poll_in_app: bool = False
    feeds: tuple[str, ...] = ()
    feeds_every_s: float = 60.0
    feeds_timeout_s: float = 10.0
    feeds_max_bytes: int = 20 * 1024 * 1024
    feeds_stale_factor: float = 3.0
    feeds_poll_in_app: bool = False
    recommendations: bool = True
    compliance_share: float = 0.5
    mean_stay_s: float = 7200.0
    spread_within_s: float = 120.0
    recommend_horizon_s: float = 86_400.0

    def __post_init__(self) -> None:
        positive = ("max_body_bytes", "max_observations_per_post", "max_itineraries",
                    "max_window_min", "max_isochrone_minutes", "max_walk_m", "max_stops_radius_m",
                    "max_stops_results", "request_time_budget_s", "compute_threads",
                    "max_observation_age_s", "max_unknown_capacity", "max_json_depth",
                    "max_isochrone_mode_minutes", "heavy_concurrency", "heavy_queue_wait_s",
                    "realtime_every_s", "realtime_timeout_s", "realtime_max_bytes",
                    "feeds_every_s", "feeds_timeout_s", "feeds_max_bytes", "feeds_stale_factor",
                    "mean_stay_s", "recommend_horizon_s")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)!r}")
        for name in ("future_tolerance_s", "max_transfers", "network_simplify_m", "realtime_max_age_s",
                     "spread_within_s"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative, got {getattr(self, name)!r}")
        if not 0 <= self.compliance_share <= 1:
            raise ConfigError(f"compliance_share must be between 0 and 1, got {self.compliance_share!r}")
        if self.max_capacity_factor < 1:
            raise ConfigError(f"max_capacity_factor must be at least 1, got {self.max_capacity_factor!r}")
        if self.max_unknown_capacity > INT32_MAX:
            raise ConfigError(f"max_unknown_capacity must be at most {INT32_MAX}")
        for name in ("rate_limit", "rate_limit_heavy"):
            _check_rate(name, getattr(self, name))
        if not 0 <= self.network_decimals <= 8:
            raise ConfigError(f"network_decimals must be 0..8, got {self.network_decimals!r}")
        self._check_feeds()
        if self.ingest_token is not None and len(self.ingest_token) < 16:
            raise ConfigError("ingest_token must be at least 16 characters long (or unset to "
                              "disable POST /api/v1/parking/observations)")

    def _check_feeds(self) -> None:
        for text in self.feeds:
            try:
                FeedSpec.parse(text)
            except ValueError as exc:
                raise ConfigError(f"feeds: {exc}") from None

    @property
    def observations_path(self) -> Path | None:
        """The SQLite file of live observations: ``observations_db``, else beside the bundle."""
        if self.observations_db is not None:
            return Path(self.observations_db)
        if self.bundle_dir is None:
            return None
        bundle = Path(self.bundle_dir).resolve()
        return bundle.with_name(f"{bundle.name}.observations.sqlite")

    @property
    def realtime_state_path(self) -> Path | None:
        """The folder of polled real-time feeds: ``realtime_state_dir``, else beside the
        observations database."""
        if self.realtime_state_dir is not None:
            return Path(self.realtime_state_dir)
        obs = self.observations_path
        return None if obs is None else obs.with_name(f"{obs.name}.realtime")

    def public(self) -> dict:
        """The settings as JSON-able values, without the token or the feeds' credentials (for
        /info and logs)."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "ingest_token":
                out["ingest_enabled"] = value is not None
                continue
            if f.name == "feeds":   # URLs may carry keys in their query or user:password
                value = tuple(f"{s.kind}={s.public_url()}" for s in map(FeedSpec.parse, value))
            out[f.name] = str(value) if isinstance(value, Path) else (
                list(value) if isinstance(value, tuple) else value)
        return out


def _check_rate(name: str, value: str | None) -> None:
    """A flask-limiter rate string ("120/minute;20/second"), or empty for none."""
    if not value:
        return
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(f"{name} must be rates like '120/minute;20/second', got {value!r}") from None


def _convert(name: str, value, source: str):
    """``value`` as the type of field ``name``; strings (env vars) are parsed."""
    field = {f.name: f for f in dataclasses.fields(ApiConfig)}[name]
    kind = str(field.type)
    try:
        if value is None:
            if "None" in kind:
                return None
            raise ValueError("may not be empty")
        if "Path" in kind:
            return Path(str(value)) if str(value) else None
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError("is not a boolean (true/false)")
        if kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError("is not an integer")
            return int(str(value).replace("_", "")) if isinstance(value, str) else int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError("is not a number")
            return float(value)
        if kind.startswith("tuple"):
            if isinstance(value, str) and value.strip().startswith("["):
                value = json.loads(value)   # a JSON list: items may hold commas
                if not isinstance(value, list):
                    raise ValueError("is not a JSON list")
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(s).strip() for s in items if str(s).strip())
        if "str" in kind:
            return str(value) if str(value) else None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} from {source}: {value!r} {exc}") from None
    raise ConfigError(f"{name} from {source}: unsupported type {kind}")  # pragma: no cover


def _from_mapping(values: Mapping, source: str) -> dict:
    names = {f.name for f in dataclasses.fields(ApiConfig)}
    out = {}
    for key, value in values.items():
        if key not in names:
            raise ConfigError(f"unknown setting {key!r} in {source}; known: {', '.join(sorted(names))}")
        out[key] = _convert(key, value, source)
    return out


def read_config_file(path: str | Path) -> dict:
    """Settings from a ``.toml`` or ``.json`` file (a flat table of field names)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid {path.suffix[1:] or 'JSON'}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold one table of settings")
    return _from_mapping(data, str(path))


def load_config(overrides: Mapping | ApiConfig | None = None,
                environ: Mapping[str, str] | None = None) -> ApiConfig:
    """Defaults, then ``$TRAJET_CONFIG``'s file, then ``TRAJET_*`` variables, then ``overrides``."""
    if isinstance(overrides, ApiConfig):
        return overrides
    environ = os.environ if environ is None else environ
    values: dict = {}
    if environ.get(CONFIG_FILE_ENV):
        values.update(read_config_file(environ[CONFIG_FILE_ENV]))
    names = {f.name for f in dataclasses.fields(ApiConfig)}
    for name in names:
        key = ENV_PREFIX + name.upper()
        if key in environ:
            values[name] = _convert(name, environ[key], f"${key}")
    values.update(_from_mapping(dict(overrides or {}), "create_app(config)"))
    return ApiConfig(**values)
