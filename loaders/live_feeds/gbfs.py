"""Readings of a GBFS system's ``station_status`` (read and checked by :mod:`loaders.gbfs`).

Each station status becomes a reading of the station's facility
(``loaders.gbfs.station_facility_id(system_id, station_id)``) by the shared bike-share rule:
free = ``num_docks_available``, capacity = ``num_bikes_available`` + ``num_docks_available`` (so
occupied = bikes available). Without a dock count (virtual stations) the reading gives occupied =
bikes and no capacity. The instant is ``last_reported``, else the file's ``last_updated``. A
station not installed is left out (``station_not_installed``); what ``loaders.gbfs`` left out
(duplicate ids, a status for a station not in station_information, negative counts...) is
counted under its codes.
"""
from __future__ import annotations

from loaders.gbfs import GbfsFeed, station_facility_id
from loaders.live_feeds.readings import LiveFeedError, LiveFeedReport, Reading


def readings_from_gbfs(feed: GbfsFeed) -> tuple[list[Reading], LiveFeedReport]:
    """The station readings of a GBFS feed; LiveFeedError without system_information."""
    if feed.system is None:
        raise LiveFeedError(f"{feed.source}: no usable system_information (its system_id names "
                            "the stations' facilities)")
    report = LiveFeedReport()
    for code, count in feed.report.rejected.items():
        report.rejected[code] += count
        report.examples[code] = list(feed.report.examples.get(code, []))
    status_file = feed.files.get("station_status")
    file_time = None if status_file is None else status_file.last_updated_utc_s
    readings = []
    for status in feed.station_status:
        facility_id = station_facility_id(feed.system.system_id, status.station_id)
        if not status.is_installed:
            report.reject("station_not_installed", facility_id)
            continue
        time_utc_s = status.last_reported_utc_s or file_time
        if time_utc_s is None:
            report.reject("missing_timestamp", facility_id)
            continue
        docks, bikes = status.num_docks_available, status.num_bikes_available
        if docks is None:
            readings.append(Reading(facility_id, int(time_utc_s), None, occupied=bikes))
        else:
            readings.append(Reading(facility_id, int(time_utc_s), docks,
                                    capacity=(bikes + docks) if bikes + docks > 0 else None))
    return readings, report
