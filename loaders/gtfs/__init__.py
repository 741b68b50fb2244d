"""GTFS feeds (zip archives or folders) -> one RAPTOR :class:`~engine.model.Timetable`.

The package owns reading a feed's files (``files``, ``tables``, ``fields``), checking and parsing
each part of it (``stops``, ``routes``, ``services``, ``trips``, ``frequencies``, ``transfers``),
the files it only checks (``shapes``, ``references``: fares, attributions, networks),
one feed (``feed``), several feeds merged with id prefixes (``merge``) and the face,
:func:`timetable_from_gtfs` (``timetable``, whose docstring says what is repaired, dropped or
refused).
"""
from loaders.gtfs.files import KNOWN_FILES
from loaders.gtfs.stops import STOPS_TOO_CLOSE_M
from loaders.gtfs.timetable import timetable_from_gtfs
from loaders.gtfs.transfers import WALK_DETOUR_FACTOR, WALK_SPEED_MPS

__all__ = ["KNOWN_FILES", "STOPS_TOO_CLOSE_M", "WALK_DETOUR_FACTOR", "WALK_SPEED_MPS",
           "timetable_from_gtfs"]
