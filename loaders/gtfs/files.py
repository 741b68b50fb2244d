"""The files of one GTFS feed, read from a folder or a zip archive.

Also which file names GTFS knows, which files are required and which columns this loader reads.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

from loaders.report import BuildReport, LoaderError

# Files of the GTFS reference; anything else in a feed is reported as unknown.
KNOWN_FILES = frozenset({
    "agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt", "calendar.txt",
    "calendar_dates.txt", "fare_attributes.txt", "fare_rules.txt", "timeframes.txt",
    "rider_categories.txt", "fare_media.txt", "fare_products.txt", "fare_leg_rules.txt",
    "fare_leg_join_rules.txt", "fare_transfer_rules.txt", "areas.txt", "stop_areas.txt",
    "networks.txt", "route_networks.txt", "shapes.txt", "frequencies.txt", "transfers.txt",
    "pathways.txt", "levels.txt", "location_groups.txt", "location_group_stops.txt",
    "locations.geojson", "booking_rules.txt", "translations.txt", "feed_info.txt",
    "attributions.txt",
})

# Files this loader reads: (required columns, other known columns).
_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "agency.txt": (("agency_name", "agency_url", "agency_timezone"),
                   ("agency_id", "agency_lang", "agency_phone", "agency_fare_url", "agency_email",
                    "cemv_support")),
    "stops.txt": (("stop_id",),
                  ("stop_code", "stop_name", "tts_stop_name", "stop_desc", "stop_lat", "stop_lon",
                   "zone_id", "stop_url", "location_type", "parent_station", "stop_timezone",
                   "wheelchair_boarding", "level_id", "platform_code", "stop_access")),
    "routes.txt": (("route_id", "route_type"),
                   ("agency_id", "route_short_name", "route_long_name", "route_desc", "route_url",
                    "route_color", "route_text_color", "route_sort_order", "continuous_pickup",
                    "continuous_drop_off", "network_id", "cemv_support")),
    "trips.txt": (("route_id", "service_id", "trip_id"),
                  ("trip_headsign", "trip_short_name", "direction_id", "block_id", "shape_id",
                   "wheelchair_accessible", "bikes_allowed", "cars_allowed")),
    "stop_times.txt": (("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
                       ("stop_headsign", "pickup_type", "drop_off_type", "continuous_pickup",
                        "continuous_drop_off", "shape_dist_traveled", "timepoint",
                        "location_group_id", "location_id", "start_pickup_drop_off_window",
                        "end_pickup_drop_off_window", "pickup_booking_rule_id",
                        "drop_off_booking_rule_id")),
    "calendar.txt": (("service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                      "saturday", "sunday", "start_date", "end_date"), ()),
    "calendar_dates.txt": (("service_id", "date", "exception_type"), ()),
    "frequencies.txt": (("trip_id", "start_time", "end_time", "headway_secs"), ("exact_times",)),
    "transfers.txt": (("transfer_type",),
                      ("from_stop_id", "to_stop_id", "from_route_id", "to_route_id", "from_trip_id",
                       "to_trip_id", "min_transfer_time")),
    "shapes.txt": (("shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"),
                   ("shape_dist_traveled",)),
    "fare_attributes.txt": (("fare_id", "price", "currency_type", "payment_method", "transfers"),
                            ("agency_id", "transfer_duration")),
    "fare_rules.txt": (("fare_id",), ("route_id", "origin_id", "destination_id", "contains_id")),
    "attributions.txt": (("organization_name",),
                         ("attribution_id", "agency_id", "route_id", "trip_id", "is_producer",
                          "is_operator", "is_authority", "attribution_url", "attribution_email",
                          "attribution_phone")),
    "networks.txt": (("network_id",), ("network_name",)),
    "route_networks.txt": (("network_id", "route_id"), ()),
}
_REQUIRED_FILES = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
# Files the timetable does not use but whose references the loader checks (warnings only): a
# problem in them never stops the build.
_CHECKED_FILES = ("shapes.txt", "fare_attributes.txt", "fare_rules.txt", "attributions.txt",
                  "networks.txt", "route_networks.txt")


def _zip_members(names: list[str], path: Path, label: str, report: BuildReport) -> dict[str, str]:
    """File name -> archive member, from the one folder of the archive that holds the feed.

    That is the root when it holds GTFS files, else the only subfolder holding some (warned:
    ``invalid_input_files_in_subfolder``). Several subfolders holding GTFS files (two stops.txt,
    say) are refused with that code: which one is the feed would be a guess."""
    def split(name: str) -> tuple[str, str]:
        folder, _, base = name.rpartition("/")
        return folder, base

    root = [n for n in names if "/" not in n]
    if any(n in KNOWN_FILES for n in root):
        return {n: n for n in root}
    holding: dict[str, list[str]] = {}
    for n in names:
        folder, base = split(n)
        if folder and base in KNOWN_FILES:
            holding.setdefault(folder, []).append(base)
    if not holding:
        return {n: n for n in root}
    if len(holding) > 1:
        shown = "; ".join(f"{folder}/: {', '.join(sorted(files))}"
                          for folder, files in sorted(holding.items()))
        raise LoaderError.of("invalid_input_files_in_subfolder",
                             f"the archive holds GTFS files in {len(holding)} subfolders ({shown}): "
                             "one archive holds one feed at its root; give each feed as its own "
                             "zip or folder", file=path.name)
    folder = next(iter(holding))
    report.warn("invalid_input_files_in_subfolder",
                f"the feed's files are in the subfolder {folder!r} of the archive; read from there",
                file=label + folder)
    return {split(n)[1]: n for n in names if split(n)[0] == folder}


class _Source:
    """The files of one feed, from a folder or a zip archive (files may sit in one subfolder)."""

    def __init__(self, path: Path, label: str, report: BuildReport):
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        if path.is_dir():
            members = {p.name: p.name for p in path.iterdir() if p.is_file()}
        elif path.is_file():
            if not zipfile.is_zipfile(path):
                raise LoaderError.of("io_error", f"{path} is neither a zip archive nor a folder; "
                                     "a GTFS feed is a zip of .txt files or a folder of them",
                                     file=path.name)
            try:
                self._zip = zipfile.ZipFile(path)
                names = [n for n in self._zip.namelist() if not n.endswith("/")]
            except (zipfile.BadZipFile, OSError) as exc:
                raise LoaderError.of("io_error", f"cannot read the zip archive {path}: {exc}",
                                     file=path.name) from None
            members = _zip_members([n for n in names if not n.startswith("__MACOSX/")], path,
                                   label, report)
        else:
            raise LoaderError.of("io_error", f"{path} does not exist", file=str(path))
        self.members = members

    def has(self, name: str) -> bool:
        return name in self.members

    def read(self, name: str) -> bytes:
        try:
            if self._zip is not None:
                return self._zip.read(self.members[name])
            return (self.path / self.members[name]).read_bytes()
        except (OSError, zipfile.BadZipFile, KeyError) as exc:
            raise LoaderError.of("io_error", f"cannot read {name} from {self.path}: {exc}",
                                 file=name) from None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
