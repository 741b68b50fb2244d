"""The observations store (SQLite WAL) and the in-memory view the forecaster reads."""
import numpy as np

from api.observations import LiveFeed, Observation, ObservationStore


def test_latest_observation_per_facility_at_an_instant(tmp_path):
    store = ObservationStore(tmp_path / "obs.sqlite")
    store.add([Observation("P2", 1_000, 5, None), Observation("P1", 2_000, 40, 300),
               Observation("P1", 1_500, 60, 300), Observation("P1", 3_000, 10, None)])
    live = LiveFeed(["P1", "P2", "P3"], store)
    t, free, cap = live.latest()
    assert t.tolist() == [3_000, 1_000, -1]
    assert free.tolist() == [10, 5, -1] and cap.tolist() == [-1, -1, -1]
    t, free, cap = live.latest(2_500)
    assert t.tolist() == [2_000, 1_000, -1] and free.tolist() == [40, 5, -1] and cap[0] == 300
    h = live.history()
    assert h.facility_idx.tolist() == [0, 0, 0, 1]  # sorted by facility, then time
    assert h.time_utc_s.tolist() == [1_500, 2_000, 3_000, 1_000]


def test_rows_of_facilities_the_bundle_lacks_are_skipped_and_counted(tmp_path):
    store = ObservationStore(tmp_path / "obs.sqlite")
    store.add([Observation("GONE", 1_000, 5, None), Observation("P1", 1_000, 7, None)])
    live = LiveFeed(["P1"], store)
    assert live.skipped_unknown == 1 and live.history().n_observations == 1


def test_a_view_picks_up_rows_another_process_stored(tmp_path):
    path = tmp_path / "obs.sqlite"
    live = LiveFeed(np.array(["P1"]), ObservationStore(path))
    assert live.history().n_observations == 0
    ObservationStore(path).add([Observation("P1", 1_000, 3, None)])  # another worker's connection
    assert live.history().free_spaces.tolist() == [3]
    assert live.sync() == 0  # nothing new since
