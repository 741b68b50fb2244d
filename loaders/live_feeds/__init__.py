"""Live occupancy feeds a city publishes, read into plain readings (one per facility and instant).

Each reader takes the bytes of one poll and returns ``(readings, report)``: :class:`Reading`
records (facility id, instant in POSIX seconds, counts as ints or None) and a
:class:`LiveFeedReport` counting each entity left out under a named code. A body that is not a
feed at all (HTML, not JSON, the wrong shape) raises :class:`LiveFeedError`. Nothing here knows
the bundle or the store: the poller (``api.feeds``) checks each reading with the rules of
``POST /api/v1/parking/observations`` and stores it.

* ``ngsi.py``: FIWARE NGSI v2 (normalized, keyValues) and NGSI-LD entities: ``OffStreetParking``,
  ``OnStreetParking``, ``BikeHireDockingStation`` (ids and values by ``loaders.parking.ngsi``).
* ``ods.py``: OpenDataSoft records (v2.1 ``results[]``, v1 ``records[].fields``, or a plain JSON
  list of objects) with a field mapping (:class:`OdsMapping`).
* ``spec.py``: what ``--feed KIND=URL[#ROLE=FIELD,...]`` asks for (:class:`FeedSpec`);
  ``gbfs_poller.py``: polling a GBFS system file by file, each within its ttl.
* ``gbfs.py``: station_status of a GBFS system read by ``loaders.gbfs`` into readings of the
  stations' facilities (``loaders.gbfs.station_facility_id``).
"""
from loaders.live_feeds.gbfs import readings_from_gbfs
from loaders.live_feeds.ngsi import readings_from_ngsi
from loaders.live_feeds.ods import OdsMapping, readings_from_ods
from loaders.live_feeds.readings import CODES, LiveFeedError, LiveFeedReport, Reading, parse_json
from loaders.live_feeds.spec import KINDS, FeedSpec

__all__ = ["CODES", "KINDS", "FeedSpec", "LiveFeedError", "LiveFeedReport", "OdsMapping", "Reading",
           "parse_json", "readings_from_gbfs", "readings_from_ngsi", "readings_from_ods"]
