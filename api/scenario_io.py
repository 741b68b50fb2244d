"""Scenario and matrix files: read places and scenario files, write tables, summaries and maps.

Everything here is about formats; the computing is in ``engine.scenario`` (modifications),
``engine.planning.matrix`` (travel times) and ``api.batch`` (running chunks of origins in parallel).

Places (origins, destinations)
------------------------------
* a CSV file with an id column (``id``, or ``--id-column``), ``lon``/``lat`` (also ``lng``,
  ``longitude``, ``x`` / ``latitude``, ``y``) and an optional weight column (``weight``, the
  opportunities at a destination: jobs, shops, residents...);
* a GeoJSON FeatureCollection of Points (id from the feature's ``id`` or the ``id`` property,
  weight from the ``weight`` property);
* in a scenario file also ``stops`` (every stop that a route serves, or ``{stops: [ids]}``,
  optionally ``{stops: all, sample: 100, seed: 1}``), ``{grid: {spacing_m: 400}}`` (a grid over
  the network's bounding box, kept where a walkable street lies within ``max_snap_m``, 150 m by
  default) or an inline list of ``{id, lon, lat, weight}``.

Scenario files (YAML or JSON)
-----------------------------
::

    name: Close Parking du Casino on a Saturday afternoon
    bundle: ../bundles/monaco          # relative to this file
    origins: {grid: {spacing_m: 400}}
    destinations: stops
    departure: "2026-01-10T15:00"      # local time of the network; or departures: [...]
    modes: [CAR_PARK]                  # WALK, BICYCLE, CAR, CAR_PARK, TRANSIT
    window_min: 0                      # > 0: every minute of the window, median and percentiles
    percentiles: [25, 50, 75]
    max_time_min: 60
    options: {bike_lane_preference: 0.0}   # engine.planning.PlanOptions fields
    modifications:
      - type: close-parking
        facility: osm:node/1876870084

Problems raise :class:`ScenarioFileError` naming the file and the field (or row and column).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.model import Mode, Network
from engine.parking.choice import ParkingPolicy
from engine.planning.matrix import DEFAULT_MAX_TIME_S, MatrixError, parse_modes
from engine.planning.options import PlanOptions
from engine.scenario import AddBikeLane, Scenario, ScenarioError

ACCESSIBILITY_CUTOFFS_MIN = (15, 30, 45)
"""Travel-time budgets (minutes) of the accessibility summary."""

_LON_COLUMNS = ("lon", "lng", "longitude", "x")
_LAT_COLUMNS = ("lat", "latitude", "y")
_FILE_KEYS = {"name", "description", "bundle", "origins", "destinations", "departure", "departures",
              "modes", "window_min", "percentiles", "max_time_min", "options", "modifications"}


class ScenarioFileError(ValueError):
    """A scenario, places or options file that cannot be used: names the file and the field."""

    def __init__(self, file, field: str | None, message: str, *, row: int | None = None):
        self.file, self.field, self.row = str(file) if file else None, field, row
        where = [self.file] if self.file else []
        if row is not None:
            where.append(f"row {row:,}")
        if field:
            where.append(f"field '{field}'" if row is None else f"column '{field}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


# ---------------------------------------------------------------------------------------------
# Places
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Places:
    """Points with ids and weights (1 where none are given)."""

    ids: np.ndarray          # str
    lon: np.ndarray          # degrees
    lat: np.ndarray
    weight: np.ndarray       # float, opportunities at the place
    has_weights: bool = False

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def lonlat(self) -> np.ndarray:
        return np.column_stack([self.lon, self.lat])

    def take(self, idx) -> Places:
        return Places(self.ids[idx], self.lon[idx], self.lat[idx], self.weight[idx], self.has_weights)


def _check_places(ids, lon, lat, weight, file, has_weights: bool, rows=None) -> Places:
    ids = np.asarray([str(i).strip() for i in ids], dtype=str)
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    weight = np.asarray(weight, dtype=np.float64)
    rows = np.arange(2, ids.size + 2) if rows is None else np.asarray(rows)
    if ids.size == 0:
        raise ScenarioFileError(file, None, "no places in the file")
    for name, arr, bound in (("lon", lon, 180), ("lat", lat, 90)):
        bad = ~np.isfinite(arr) | (np.abs(arr) > bound)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ScenarioFileError(file, name, f"{float(arr[i])!r} is not a {name} in degrees (WGS84)",
                                    row=int(rows[i]))
    if (ids == "").any():
        raise ScenarioFileError(file, "id", "empty id", row=int(rows[int(np.flatnonzero(ids == '')[0])]))
    _, first, counts = np.unique(ids, return_index=True, return_counts=True)
    if (counts > 1).any():
        dup = str(ids[first[np.flatnonzero(counts > 1)[0]]])
        where = np.flatnonzero(ids == dup)
        raise ScenarioFileError(file, "id", f"id {dup!r} appears twice (rows {rows[where[0]]} and "
                                f"{rows[where[1]]})", row=int(rows[where[1]]))
    bad = ~np.isfinite(weight) | (weight < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ScenarioFileError(file, "weight", f"{float(weight[i])!r} is not a weight >= 0",
                                row=int(rows[i]))
    return Places(ids, lon, lat, weight, has_weights)


def read_places(path, *, id_column: str = "id", weight_column: str | None = "weight") -> Places:
    """Places from a CSV or GeoJSON file (see the module docstring). Raises ScenarioFileError."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioFileError(path, None, "no such file")
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        return _places_from_geojson(path, id_column, weight_column)
    if suffix in (".csv", ".txt"):
        return _places_from_csv(path, id_column, weight_column)
    raise ScenarioFileError(path, None, f"unknown places format {suffix!r}: use .csv or .geojson")


def _places_from_csv(path: Path, id_column: str, weight_column: str | None) -> Places:
    import pandas as pd

    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ScenarioFileError(path, None, f"cannot be read as CSV ({exc})") from None
    cols = {c.strip().lower(): c for c in df.columns}

    def pick(options, role):
        for name in options:
            if name in cols:
                return cols[name]
        raise ScenarioFileError(path, role, f"no {role} column: expected one of {list(options)}, "
                                f"found {list(df.columns)}")

    id_col = pick((id_column.lower(),), "id")
    lon_col, lat_col = pick(_LON_COLUMNS, "lon"), pick(_LAT_COLUMNS, "lat")
    has_w = weight_column is not None and weight_column.lower() in cols

    def numbers(col):
        values = pd.to_numeric(df[col].str.strip(), errors="coerce").to_numpy(dtype=np.float64)
        bad = np.isnan(values)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ScenarioFileError(path, col, f"{df[col].iloc[i]!r} is not a number", row=i + 2)
        return values

    weight = numbers(cols[weight_column.lower()]) if has_w else np.ones(len(df))
    return _check_places(df[id_col].to_numpy(), numbers(lon_col), numbers(lat_col), weight, path, has_w)


def _places_from_geojson(path: Path, id_column: str, weight_column: str | None) -> Places:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ScenarioFileError(path, None, f"is not valid JSON ({exc})") from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        raise ScenarioFileError(path, "features", "expected a GeoJSON FeatureCollection")
    ids, lon, lat, weight = [], [], [], []
    has_w = False
    for i, feat in enumerate(features):
        geom = (feat or {}).get("geometry") or {}
        props = (feat or {}).get("properties") or {}
        if geom.get("type") != "Point":
            raise ScenarioFileError(path, f"features[{i}].geometry",
                                    f"expected a Point, got {geom.get('type')!r}")
        coords = geom.get("coordinates") or []
        if len(coords) < 2:
            raise ScenarioFileError(path, f"features[{i}].geometry", "a Point needs [lon, lat]")
        fid = feat.get("id", props.get(id_column))
        if fid is None:
            raise ScenarioFileError(path, f"features[{i}]", f"no id (feature 'id' or property '{id_column}')")
        ids.append(fid)
        lon.append(coords[0])
        lat.append(coords[1])
        w = props.get(weight_column) if weight_column else None
        has_w |= w is not None
        weight.append(1.0 if w is None else w)
    try:
        return _check_places(ids, np.asarray(lon, dtype=float), np.asarray(lat, dtype=float),
                             np.asarray(weight, dtype=float), path, has_w, rows=np.arange(len(ids)))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ScenarioFileError):
            raise
        raise ScenarioFileError(path, "features", f"non-numeric coordinates or weights ({exc})") from None


def stop_places(network: Network, ids=None, *, sample: int | None = None, seed: int = 0) -> Places:
    """Stops as places: the served stops (or the given stop ids), optionally a random sample."""
    tt = network.timetable
    if tt is None:
        raise ScenarioFileError(None, "stops", "the network has no timetable, hence no stops")
    all_ids = np.asarray(tt.stop_ids).astype(str)
    if ids is None or ids == "all":
        idx = np.flatnonzero(np.diff(np.asarray(tt.stop_route_offsets)) > 0)
    else:
        index = {s: i for i, s in enumerate(all_ids)}
        missing = [s for s in ids if str(s) not in index]
        if missing:
            raise ScenarioFileError(None, "stops", f"unknown stop id {missing[0]!r}")
        idx = np.asarray([index[str(s)] for s in ids], dtype=np.int64)
    if sample is not None and sample < idx.size:
        idx = np.sort(np.random.default_rng(seed).choice(idx, size=int(sample), replace=False))
    return Places(all_ids[idx], np.asarray(tt.stop_lon)[idx], np.asarray(tt.stop_lat)[idx],
                  np.ones(idx.size))


def grid_places(network: Network, spacing_m: float, *, bbox=None, max_snap_m: float = 150.0) -> Places:
    """A square grid (``spacing_m`` apart) over ``bbox`` (default the network's), kept where a
    walkable street lies within ``max_snap_m`` (or everywhere on a network without streets)."""
    from engine.street import snap_many

    if not (spacing_m > 0):
        raise ScenarioFileError(None, "grid.spacing_m", f"must be > 0, got {spacing_m!r}")
    min_lon, min_lat, max_lon, max_lat = network.bbox if bbox is None else bbox
    proj = network.projection
    x0, y0 = proj.to_xy_m(min_lon, min_lat)
    x1, y1 = proj.to_xy_m(max_lon, max_lat)
    xs = np.arange(float(x0), float(x1) + 1e-9, spacing_m)
    ys = np.arange(float(y0), float(y1) + 1e-9, spacing_m)
    if xs.size * ys.size > 250_000:
        raise ScenarioFileError(None, "grid.spacing_m", f"{xs.size * ys.size:,} grid points: use a "
                                "larger spacing")
    gx, gy = np.meshgrid(xs, ys)
    lon, lat = proj.to_lonlat(gx.ravel(), gy.ravel())
    ids = np.array([f"g{r}_{c}" for r in range(ys.size) for c in range(xs.size)])
    keep = np.ones(lon.size, dtype=bool)
    if network.street is not None and network.street.n_nodes:
        keep = snap_many(network.street, lon, lat, Mode.WALK, max_distance_m=max_snap_m).accessible
    if not keep.any():
        raise ScenarioFileError(None, "grid", "no grid point lies near a walkable street")
    return Places(ids[keep], lon[keep], lat[keep], np.ones(int(keep.sum())))


def places_from_spec(spec, network: Network, *, base_dir: Path, file, field_name: str) -> Places:
    """Places from a scenario file's ``origins``/``destinations`` value."""
    try:
        if isinstance(spec, str) and spec.strip().lower() == "stops":
            return stop_places(network)
        if isinstance(spec, str):
            path = Path(spec)
            return read_places(path if path.is_absolute() else base_dir / path)
        if isinstance(spec, dict) and "stops" in spec:
            ids = spec["stops"]
            return stop_places(network, None if ids == "all" else list(ids), sample=spec.get("sample"),
                               seed=int(spec.get("seed", 0)))
        if isinstance(spec, dict) and "grid" in spec:
            g = spec["grid"] or {}
            unknown = set(g) - {"spacing_m", "bbox", "max_snap_m"}
            if unknown:
                raise ScenarioFileError(file, f"{field_name}.grid", f"unknown keys {sorted(unknown)}")
            return grid_places(network, float(g.get("spacing_m", 400.0)), bbox=g.get("bbox"),
                               max_snap_m=float(g.get("max_snap_m", 150.0)))
        if isinstance(spec, dict) and "file" in spec:
            path = Path(spec["file"])
            return read_places(path if path.is_absolute() else base_dir / path,
                               id_column=spec.get("id_column", "id"),
                               weight_column=spec.get("weight_column", "weight"))
        if isinstance(spec, list):
            rows = [p if isinstance(p, dict) else {} for p in spec]
            if any(not {"id", "lon", "lat"} <= set(r) for r in rows):
                raise ScenarioFileError(file, field_name, "inline places need id, lon and lat each")
            has_w = any("weight" in r for r in rows)
            return _check_places([r["id"] for r in rows], [r["lon"] for r in rows],
                                 [r["lat"] for r in rows], [r.get("weight", 1.0) for r in rows],
                                 file, has_w, rows=np.arange(len(rows)))
    except ScenarioFileError as exc:
        if exc.file is None:
            raise ScenarioFileError(file, f"{field_name}.{exc.field}" if exc.field else field_name,
                                    str(exc).split(": ", 1)[-1]) from None
        raise
    raise ScenarioFileError(file, field_name, "expected a file path, 'stops', {stops: ...}, "
                            "{grid: {spacing_m: ...}}, {file: ...} or a list of {id, lon, lat}")


# ---------------------------------------------------------------------------------------------
# Scenario files
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScenarioFile:
    """A scenario file, read and checked (the network-dependent parts are resolved later)."""

    path: Path
    name: str
    bundle: Path | None
    origins: object
    destinations: object
    departures: tuple
    modes: tuple
    window_min: int
    percentiles: tuple
    max_time_s: float
    options: PlanOptions
    modification_specs: tuple
    scenario: Scenario
    description: str = ""
    raw: dict = field(default_factory=dict)


def parse_departure(value, *, file=None, field_name: str = "departure") -> dt.datetime:
    """An ISO 8601 date and time (string or YAML timestamp) -> datetime (naive: network's zone)."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        raise ScenarioFileError(file, field_name, f"{value.isoformat()} has no time of day")
    try:
        return dt.datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ScenarioFileError(file, field_name, f"{value!r} is not an ISO 8601 date and time "
                                "(e.g. 2026-01-10T15:00)") from None


def matrix_options(spec: dict | None, *, file=None) -> PlanOptions:
    """The planner's options (``engine.planning.PlanOptions``) from a dict of its fields; a
    ``parking`` dict gives the ParkingPolicy (min_p_free, fallback_below_p_free, park_s)."""
    spec = dict(spec or {})
    known = {f.name for f in dataclasses.fields(PlanOptions)}
    unknown = set(spec) - known
    if unknown:
        raise ScenarioFileError(file, f"options.{sorted(unknown)[0]}",
                                f"unknown option; known: {sorted(known)}")
    try:
        if "parking" in spec:
            policy = spec["parking"]
            if not isinstance(policy, dict):
                raise ValueError("parking must be a mapping of min_p_free, fallback_below_p_free, park_s")
            spec["parking"] = ParkingPolicy(**policy)
        if spec.get("transit_modes") is not None:
            spec["transit_modes"] = frozenset(str(m).upper() for m in spec["transit_modes"])
        return PlanOptions(**spec)
    except (TypeError, ValueError) as exc:
        raise ScenarioFileError(file, "options", str(exc)) from None


def load_scenario_file(path) -> ScenarioFile:
    """Read and check a YAML or JSON scenario file. Raises ScenarioFileError naming the field."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ScenarioFileError(path, None, "no such file")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ScenarioFileError(path, None, f"is not valid YAML or JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ScenarioFileError(path, None, "expected a mapping of fields (name, bundle, origins, ...)")
    unknown = set(doc) - _FILE_KEYS
    if unknown:
        raise ScenarioFileError(path, sorted(unknown)[0], f"unknown field; known: {sorted(_FILE_KEYS)}")
    for required in ("origins", "destinations"):
        if required not in doc:
            raise ScenarioFileError(path, required, "missing")
    if ("departure" in doc) == ("departures" in doc):
        raise ScenarioFileError(path, "departure", "give either departure or departures")
    raw_deps = doc.get("departures") if "departures" in doc else [doc["departure"]]
    if not isinstance(raw_deps, list) or not raw_deps:
        raise ScenarioFileError(path, "departures", "expected a non-empty list of date-times")
    departures = tuple(parse_departure(v, file=path, field_name="departures" if "departures" in doc
                                       else "departure") for v in raw_deps)
    try:
        modes = parse_modes(doc.get("modes", ["TRANSIT"]))
    except MatrixError as exc:
        raise ScenarioFileError(path, "modes", str(exc).removeprefix("modes: ")) from None
    window = doc.get("window_min", 0)
    if not isinstance(window, int) or isinstance(window, bool) or window < 0:
        raise ScenarioFileError(path, "window_min", f"expected whole minutes >= 0, got {window!r}")
    pcts = doc.get("percentiles", [])
    if not isinstance(pcts, list) or any(not isinstance(p, int | float) or not 0 <= p <= 100 for p in pcts):
        raise ScenarioFileError(path, "percentiles", f"expected numbers between 0 and 100, got {pcts!r}")
    max_min = doc.get("max_time_min", DEFAULT_MAX_TIME_S / 60)
    if not isinstance(max_min, int | float) or not max_min > 0:
        raise ScenarioFileError(path, "max_time_min", f"expected minutes > 0, got {max_min!r}")
    specs = doc.get("modifications", [])
    if not isinstance(specs, list):
        raise ScenarioFileError(path, "modifications", "expected a list of modifications")
    try:
        scenario = Scenario.from_dicts(specs, name=str(doc.get("name", path.stem)))
    except ScenarioError as exc:
        raise ScenarioFileError(path, f"modifications[{exc.index}].{exc.field}", str(exc)) from None
    bundle = doc.get("bundle")
    return ScenarioFile(
        path=path, name=str(doc.get("name", path.stem)), description=str(doc.get("description", "")),
        bundle=Path(os.path.normpath(path.parent / bundle)) if bundle else None, origins=doc["origins"],
        destinations=doc["destinations"], departures=departures, modes=modes, window_min=window,
        percentiles=tuple(float(p) for p in pcts), max_time_s=float(max_min) * 60,
        options=matrix_options(doc.get("options"), file=path), modification_specs=tuple(specs),
        scenario=scenario, raw=doc)


def prepare_scenario(scenario: Scenario, network: Network) -> Scenario:
    """The scenario with geometry resolved against ``network``: each ``add-bike-lane`` gets the
    mask of the street edges along its line (``loaders.bike_lanes.edges_along_lines``, shapely),
    over every edge that pedestrians, bicycles or cars may use (the lane may open a contraflow)."""
    import shapely

    from loaders.bike_lanes import edges_along_lines

    mods = []
    for mod in scenario.modifications:
        if isinstance(mod, AddBikeLane) and mod.edge_mask is None and network.street is not None:
            mask = edges_along_lines(network.street, [shapely.LineString(mod.line)], bike_edges_only=False)
            mod = dataclasses.replace(mod, edge_mask=mask)
        mods.append(mod)
    return Scenario(tuple(mods), name=scenario.name)


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------
def matrix_table(result, origins: Places, destinations: Places, *, departure_label: str | None = None,
                 origin_offset: int = 0, all_origins: Places | None = None):
    """The long table of a MatrixResult: from_id, to_id, travel_time_s, [travel_time_pNN_s],
    [breakdown columns], [departure]. Travel times are float seconds, NaN = unreachable.

    Ids are categorical columns over every origin (``all_origins``, of which ``origins`` starts
    at row ``origin_offset``) and every destination: chunk tables then concatenate cheaply and
    Parquet stores each id once.
    """
    import pandas as pd

    n_o, n_d = len(origins), len(destinations)
    every = all_origins if all_origins is not None else origins
    from_codes = np.repeat(np.arange(origin_offset, origin_offset + n_o, dtype=np.int32), n_d)
    to_codes = np.tile(np.arange(n_d, dtype=np.int32), n_o)
    from_cats = pd.Index(every.ids.astype(object))
    to_cats = pd.Index(destinations.ids.astype(object))
    data = {"from_id": pd.Categorical.from_codes(from_codes, categories=from_cats),
            "to_id": pd.Categorical.from_codes(to_codes, categories=to_cats),
            "travel_time_s": result.travel_time_s.ravel()}
    for p, values in result.percentile_s.items():
        data[f"travel_time_p{_pct_name(p)}_s"] = values.ravel()
    for name, values in result.breakdown.items():
        data[name] = values.ravel()
    df = pd.DataFrame(data)
    if departure_label is not None:
        df.insert(0, "departure", departure_label)
    return df


def _pct_name(p: float) -> str:
    return f"{int(p)}" if float(p).is_integer() else f"{p:g}".replace(".", "_")


def write_table(df, path) -> Path:
    """Write a table as Parquet (.parquet) or CSV (.csv), atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    suffix = path.suffix.lower()
    floats = df.select_dtypes("floating").columns
    if len(floats):     # adding 0.0 turns -0.0 into 0.0: a time is never written "-0"
        df = df.assign(**{c: df[c] + 0.0 for c in floats})
    if suffix == ".parquet":
        df.to_parquet(tmp, index=False)
    elif suffix == ".csv":
        df.to_csv(tmp, index=False, float_format="%.10g")
    else:
        raise ScenarioFileError(path, None, f"unknown table format {suffix!r}: use .parquet or .csv")
    tmp.replace(path)
    return path


# ---------------------------------------------------------------------------------------------
# Comparing baseline and scenario
# ---------------------------------------------------------------------------------------------
def difference_table(baseline, scenario):
    """Per pair: baseline_s, scenario_s, change_s (scenario - baseline; NaN when either is NaN)."""
    keys = [c for c in ("departure", "from_id", "to_id") if c in baseline.columns]
    merged = baseline[keys + ["travel_time_s"]].merge(
        scenario[keys + ["travel_time_s"]], on=keys, suffixes=("_baseline", "_scenario"), validate="1:1")
    merged = merged.rename(columns={"travel_time_s_baseline": "baseline_s",
                                    "travel_time_s_scenario": "scenario_s"})
    merged["change_s"] = merged["scenario_s"] - merged["baseline_s"]
    return merged


def summarise(diff, destinations: Places, *, cutoffs_min=ACCESSIBILITY_CUTOFFS_MIN) -> dict:
    """Headline figures of a difference table (JSON-able).

    Travel-time change over the pairs reachable in both (mean, percentiles 10/50/90), shares of
    pairs improved, worse and unchanged (by at least one second), pairs gained or lost within the
    time limit, and accessibility: per origin, the opportunities (destination weights, 1 each
    without weights) reachable within each cutoff; mean over origins before and after.
    """
    both = diff.dropna(subset=["baseline_s", "scenario_s"])
    change = both["change_s"].to_numpy()
    n_pairs = int(len(diff))
    out: dict = {
        "pairs": n_pairs,
        "pairs_reachable_baseline": int(diff["baseline_s"].notna().sum()),
        "pairs_reachable_scenario": int(diff["scenario_s"].notna().sum()),
        "pairs_gained": int((diff["baseline_s"].isna() & diff["scenario_s"].notna()).sum()),
        "pairs_lost": int((diff["baseline_s"].notna() & diff["scenario_s"].isna()).sum()),
    }
    if change.size:
        out.update(
            mean_change_s=round(float(change.mean()), 1),
            change_p10_s=round(float(np.percentile(change, 10)), 1),
            change_p50_s=round(float(np.percentile(change, 50)), 1),
            change_p90_s=round(float(np.percentile(change, 90)), 1),
            share_improved=round(float((change <= -1).mean()), 4),
            share_worse=round(float((change >= 1).mean()), 4),
            share_unchanged=round(float((np.abs(change) < 1).mean()), 4),
        )
    weight = dict(zip(destinations.ids.tolist(), destinations.weight.tolist(), strict=True))
    w = diff["to_id"].map(weight).to_numpy(dtype=np.float64)
    access: dict = {"weighted": bool(destinations.has_weights), "cutoffs_min": list(cutoffs_min)}
    n_origins = int(diff["from_id"].nunique()) * max(1, int(diff["departure"].nunique())
                                                     if "departure" in diff.columns else 1)
    for cut in cutoffs_min:
        limit = cut * 60
        before = float((w * (diff["baseline_s"].to_numpy() <= limit)).sum()) / max(n_origins, 1)
        after = float((w * (diff["scenario_s"].to_numpy() <= limit)).sum()) / max(n_origins, 1)
        access[f"within_{cut}_min"] = {
            "baseline": round(before, 3), "scenario": round(after, 3), "change": round(after - before, 3),
            "change_pct": round(100 * (after - before) / before, 2) if before > 0 else None}
    out["accessibility"] = access
    return out


def origin_changes(diff):
    """Per origin: mean change (s) over pairs reachable in both, and counts (a DataFrame)."""
    both = diff.dropna(subset=["baseline_s", "scenario_s"])
    per = both.groupby("from_id", observed=True)["change_s"].agg(["mean", "count"]).rename(
        columns={"mean": "mean_change_s", "count": "pairs"})
    return per


def plot_change_map(network: Network, origins: Places, per_origin, path, *, title: str = "",
                    highlight_edges: np.ndarray | None = None, closed_points=None,
                    stop_points=None) -> Path:
    """A PNG map: the street network in grey, changed streets highlighted, origins coloured by
    their mean travel-time change (blue faster, red slower; minutes), closed facilities and the
    stops whose service changed marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    fig, ax = plt.subplots(figsize=(9, 9), dpi=110)
    sg = network.street
    if sg is not None and sg.n_edges:
        tail, head = np.asarray(sg.edge_tail), np.asarray(sg.indices)
        pairs = np.unique(np.column_stack([np.minimum(tail, head), np.maximum(tail, head)]), axis=0)
        a, b = pairs[:, 0], pairs[:, 1]   # each street segment once, whatever its directions
        segs = np.stack([np.column_stack([sg.node_lon[a], sg.node_lat[a]]),
                         np.column_stack([sg.node_lon[b], sg.node_lat[b]])], axis=1)
        ax.add_collection(LineCollection(segs, colors="#b0b0b0", linewidths=0.5, zorder=1))
        if highlight_edges is not None and highlight_edges.any():
            h = np.flatnonzero(highlight_edges)
            hs = np.stack([np.column_stack([sg.node_lon[tail[h]], sg.node_lat[tail[h]]]),
                           np.column_stack([sg.node_lon[head[h]], sg.node_lat[head[h]]])], axis=1)
            ax.add_collection(LineCollection(hs, colors="#2ca02c", linewidths=2.0, zorder=2,
                                             label="changed streets"))
    idx = {k: i for i, k in enumerate(origins.ids.tolist())}
    have = [k for k in per_origin.index if k in idx]
    rows = np.asarray([idx[k] for k in have], dtype=np.int64)
    minutes = per_origin.loc[have, "mean_change_s"].to_numpy(dtype=np.float64) / 60.0
    lim = max(float(np.nanmax(np.abs(minutes))) if minutes.size else 0.0, 0.5)
    norm = mcolors.TwoSlopeNorm(vmin=-lim, vcenter=0.0, vmax=lim)
    missing = np.setdiff1d(np.arange(len(origins)), rows)
    if missing.size:
        ax.scatter(origins.lon[missing], origins.lat[missing], s=18, c="none", edgecolors="#777777",
                   linewidths=0.8, zorder=3, label="no pair reachable in both")
    sc = ax.scatter(origins.lon[rows], origins.lat[rows], c=minutes, cmap="RdBu_r", norm=norm, s=42,
                    edgecolors="black", linewidths=0.4, zorder=4)
    if stop_points is not None and len(stop_points):
        pts = np.asarray(stop_points, dtype=float)
        ax.scatter(pts[:, 0], pts[:, 1], marker="^", s=30, c="#ff7f0e", edgecolors="black",
                   linewidths=0.3, zorder=3, label="stops with changed service")
    if closed_points is not None and len(closed_points):
        pts = np.asarray(closed_points, dtype=float)
        ax.scatter(pts[:, 0], pts[:, 1], marker="X", s=140, c="black", zorder=5, label="closed")
    cbar = fig.colorbar(sc, ax=ax, shrink=0.7)
    cbar.set_label("mean travel-time change (min): scenario - baseline")
    lon0, lat0, lon1, lat1 = network.bbox
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_aspect(1.0 / math.cos(math.radians((lat0 + lat1) / 2)))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(title or "Travel-time change per origin")
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(loc="lower right", fontsize=8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def changed_street_edges(base: Network, scen: Network) -> np.ndarray | None:
    """Bool mask of street edges whose costs or bike-lane flag the scenario changed."""
    a, b = base.street, scen.street
    if a is None or b is None or a is b:
        return None
    mask = np.zeros(a.n_edges, dtype=bool)
    for name in ("walk_time_s", "bike_time_s", "car_time_s", "edge_is_bike_lane"):
        x, y = getattr(a, name), getattr(b, name)
        if x is not y:
            mask |= ~np.equal(np.asarray(x), np.asarray(y))
    return mask


def changed_stops(base: Network, scen: Network) -> np.ndarray:
    """lon/lat of the stops whose calls the scenario changed (more, fewer or other trips)."""
    a, b = base.timetable, scen.timetable
    if a is None or b is None or a is b:
        return np.zeros((0, 2))

    def calls(tt) -> np.ndarray:
        # stop_idx -> number of trips calling there (each route position times its trips)
        n_trips = np.diff(np.asarray(tt.route_trip_offsets))
        per_pos = np.repeat(n_trips, np.diff(np.asarray(tt.route_stop_offsets)))
        return np.bincount(np.asarray(tt.route_stops), weights=per_pos, minlength=tt.n_stops)

    moved = calls(a) != calls(b)
    moved |= np.isin(np.arange(a.n_stops), _stops_of_changed_trips(a, b))
    idx = np.flatnonzero(moved)
    return np.column_stack([np.asarray(a.stop_lon)[idx], np.asarray(a.stop_lat)[idx]])


def _stops_of_changed_trips(a, b) -> np.ndarray:
    """Stops called at by trips that one timetable has and the other has not (by trip id)."""
    ids_a, ids_b = np.asarray(a.trip_ids).astype(str), np.asarray(b.trip_ids).astype(str)
    gone = ~np.isin(ids_a, ids_b)
    new = ~np.isin(ids_b, ids_a)
    out = []
    for tt, mask in ((a, gone), (b, new)):
        routes = np.unique(np.asarray(tt.trip_route_idx)[mask])
        for r in routes:
            out.append(np.asarray(tt.route_stops)[tt.route_stop_offsets[r]:tt.route_stop_offsets[r + 1]])
    return np.unique(np.concatenate(out)) if out else np.zeros(0, dtype=np.int64)


def closed_facility_points(base: Network, scen: Network) -> np.ndarray:
    """lon/lat of the parking facilities the scenario removed."""
    gone = ~np.isin(np.asarray(base.parking.facility_ids), np.asarray(scen.parking.facility_ids))
    return np.column_stack([np.asarray(base.parking.lon)[gone], np.asarray(base.parking.lat)[gone]])


__all__ = ["ScenarioFileError", "Places", "read_places", "stop_places", "grid_places", "places_from_spec",
           "ScenarioFile", "load_scenario_file", "parse_departure", "matrix_options", "prepare_scenario",
           "matrix_table", "write_table", "difference_table", "summarise", "origin_changes",
           "plot_change_map", "changed_street_edges", "closed_facility_points", "changed_stops",
           "ACCESSIBILITY_CUTOFFS_MIN"]
