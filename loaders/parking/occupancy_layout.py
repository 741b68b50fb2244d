"""Column layouts of occupancy CSVs: named presets, and which column holds each role."""
from __future__ import annotations

from pathlib import Path

from loaders.report import LoaderError

OCCUPANCY_PRESETS: dict[str, dict] = {
    # Montpellier Méditerranée Métropole's hourly car-park readings as collected in
    # parkings_montpellier_2026.csv: local wall-clock times, free spaces, capacity, Open/Full.
    "montpellier": dict(timestamp_col="fecha_lectura", facility_col="nombre_parking",
                        free_col="plazas_libres", capacity_col="capacidad_total",
                        status_col="estado"),
    # A common open-data layout: facility code, capacity, spaces occupied, reading time (ISO 8601
    # with or without offset, or epoch seconds). A 'status' column is read when present.
    "generic": dict(timestamp_col="last_updated", facility_col="code", occupied_col="occupancy",
                    capacity_col="capacity", status_col="status", optional=("status_col",)),
}
"""Column layouts of :func:`occupancy_from_csv` by name. Keys are its keyword arguments;
``optional`` lists the roles that may be absent from a file."""

_ROLE_KEYS = ("timestamp_col", "facility_col", "free_col", "occupied_col", "capacity_col",
              "status_col")


def _resolve_layout(header: list[str], path: Path, preset: str | None, flags: dict) -> dict:
    """The column of each role: the preset's (or the matching one's), overridden by flags."""
    if preset is not None:
        if preset not in OCCUPANCY_PRESETS:
            raise LoaderError.of("unknown_preset", f"unknown occupancy preset {preset!r}; known: "
                                 f"{', '.join(sorted(OCCUPANCY_PRESETS))}", file=path.name)
        layout = dict(OCCUPANCY_PRESETS[preset])
    elif not any(v is not None for v in flags.values()):
        # No preset and no flags: take the preset whose required columns are all in the file.
        for candidate in OCCUPANCY_PRESETS.values():
            optional = candidate.get("optional", ())
            if all(v in header for k, v in candidate.items()
                   if k in _ROLE_KEYS and v is not None and k not in optional):
                layout = dict(candidate)
                break
        else:
            raise LoaderError.of("unknown_layout", "cannot tell the columns of this occupancy file"
                                 f" (header {header}): give a preset "
                                 f"({', '.join(sorted(OCCUPANCY_PRESETS))}) or the column flags "
                                 "timestamp, facility, free or occupied, capacity", file=path.name)
    else:
        layout = {}
    optional = set(layout.pop("optional", ()))
    for key, value in flags.items():
        if value is not None:
            layout[key] = value
            optional.discard(key)
    if flags.get("free_col") is not None and flags.get("occupied_col") is None:
        layout.pop("occupied_col", None)
    if flags.get("occupied_col") is not None and flags.get("free_col") is None:
        layout.pop("free_col", None)
    needed = ["timestamp_col", "facility_col", "capacity_col"]
    for key in needed:
        if not layout.get(key):
            raise LoaderError.of("missing_parameter", f"occupancy_from_csv needs {key} (or a "
                                 "preset naming it)", file=path.name)
    if not layout.get("free_col") and not layout.get("occupied_col"):
        raise LoaderError.of("missing_parameter", "occupancy_from_csv needs free_col or "
                             "occupied_col (or a preset naming one)", file=path.name)
    for key in _ROLE_KEYS:
        col = layout.get(key)
        if col and col not in header:
            if key in optional:
                layout.pop(key)
                continue
            raise LoaderError.of("missing_required_column", f"column {col!r} ({key[:-4]}) is "
                                 f"missing; the header has {header}", file=path.name, column=col)
    return layout

