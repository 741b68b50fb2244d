"""Hand-made timetables for the engine tests: trips as plain rows into TripStopTimes."""
import numpy as np

from engine.transit.build import TripStopTimes


def trip_stop_times(rows, board=None, alight=None):
    """rows: (trip_id, line_idx, service_idx, [(stop_idx, arr_s, dep_s), ...]); ``board`` and
    ``alight``: one flag per stop time (default: all allowed)."""
    offsets, stops, arr, dep = [0], [], [], []
    for _, _, _, times in rows:
        for s, a, d in times:
            stops.append(s)
            arr.append(a)
            dep.append(d)
        offsets.append(len(stops))
    n = len(rows)
    return TripStopTimes(
        trip_ids=np.array([r[0] for r in rows]), trip_line_idx=np.array([r[1] for r in rows]),
        trip_service_idx=np.array([r[2] for r in rows], dtype=np.int32),
        trip_wheelchair=np.zeros(n, dtype=np.int8), trip_bikes_allowed=np.zeros(n, dtype=np.int8),
        trip_headsign=np.array([""] * n), st_offsets=np.array(offsets), st_stop_idx=np.array(stops),
        st_arrival_s=np.array(arr), st_departure_s=np.array(dep),
        st_can_board=np.ones(len(stops), bool) if board is None else np.asarray(board, bool),
        st_can_alight=np.ones(len(stops), bool) if alight is None else np.asarray(alight, bool))
