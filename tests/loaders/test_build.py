"""`trajet build` end to end: the sample bundles build and their counts match the sources."""
import json
import subprocess
import sys

import numpy as np
import pytest

from engine.model import NO_INDEX, Mode, ParkingKind
from loaders.build import BuildOptions, build_bundle
from loaders.bundle import load_bundle, read_manifest
from loaders.report import BuildReport, LoaderError
from tests.conftest import SAMPLES, SHARED_DATA


def _info_json(bundle) -> dict:
    run = subprocess.run([sys.executable, "-m", "api.cli", "info", str(bundle), "--json"],
                         capture_output=True, text=True, check=True)
    return json.loads(run.stdout)


def test_tiny_town_links_stops_parking_and_occupancy(tiny_town_bundle):
    info = _info_json(tiny_town_bundle)
    assert (info["stops"], info["routes"], info["trips"], info["stop_times"]) == (8, 2, 287, 1077)
    assert (info["street_nodes"], info["street_edges"]) == (26, 74)
    assert (info["edges_walk"], info["edges_bike"], info["edges_car"]) == (74, 64, 54)
    assert info["parking_facilities"] == 4 and info["car_parks"] == 3
    assert info["occupancy_observations"] == 4032
    assert info["timezone"] == "Europe/Paris"
    net = load_bundle(tiny_town_bundle)
    # every stop of the town is within a few metres of a walkable street
    boarding = net.timetable.stop_location_type == 0
    assert (net.stop_walk_node_idx[boarding] != NO_INDEX).all()
    assert net.stop_walk_offset_m[boarding].max() < 25
    # car parks enter from a car-accessible node; the profile was fitted from the history
    pk = net.parking
    cars = np.isin(pk.kind, (ParkingKind.CAR_PARK, ParkingKind.PARK_AND_RIDE))
    assert net.street.node_in_component[Mode.CAR][pk.car_node_idx[cars]].all()
    assert pk.profile is not None and pk.profile.free_mean.shape[0] == pk.n_facilities
    # walking footpaths were added between the bus and tram stops of the Mairie station
    assert net.timetable.transfer_to_stop.shape[0] > 0


@pytest.mark.slow
def test_monaco_counts_match_the_catalogue(monaco_bundle):
    info = _info_json(monaco_bundle)
    assert isinstance(info["stops"], int) and isinstance(info["stop_times"], int)
    assert (info["stops"], info["routes"], info["trips"], info["stop_times"]) == (98, 15, 10_344,
                                                                                  137_978)
    assert (info["service_start"], info["service_end"]) == ("2025-12-20", "2026-02-13")
    assert info["car_parks"] == 29 and info["occupancy_observations"] == 49_416
    assert info["edges_walk"] == 29_498 and info["bike_lane_edges"] == 83
    manifest = read_manifest(monaco_bundle)
    assert manifest["inputs"]["gtfs"][0]["sha256"].startswith("6d14d0a9")
    assert manifest["inputs"]["osm"][0]["sha256"].startswith("1f24d3e4")


@pytest.mark.slow
def test_montpellier_builds_without_streets(montpellier_bundle):
    info = _info_json(montpellier_bundle)
    assert (info["stops"], info["stations"], info["routes"], info["trips"],
            info["stop_times"]) == (2054, 654, 45, 16_393, 339_023)
    assert (info["service_start"], info["service_end"]) == ("2023-12-18", "2024-02-25")
    assert "street_nodes" not in info
    assert info["car_parks"] == 24 and info["occupancy_observations"] == 90_574
    net = load_bundle(montpellier_bundle)
    assert (net.stop_walk_node_idx == NO_INDEX).all()
    # straight-line footpaths were added beside the feed's 1,057 transfers
    assert net.timetable.transfer_to_stop.shape[0] > 1057


def test_a_missing_input_is_named_before_any_work(tmp_path):
    with pytest.raises(LoaderError, match="--osm .*nowhere.osm.pbf: no such file") as err:
        build_bundle(BuildOptions(gtfs=[SAMPLES / "tiny_town" / "gtfs"],
                                  osm=tmp_path / "nowhere.osm.pbf"), tmp_path / "b", BuildReport())
    assert err.value.notice.code == "missing_input"


def test_the_cli_stops_with_the_loader_message_and_no_traceback(tmp_path):
    bad = SHARED_DATA / "bad_gtfs" / "transitfeed" / "undefined_stop"
    if not bad.exists():
        pytest.skip("../shared/data is not beside the checkout")
    run = subprocess.run([sys.executable, "-m", "api.cli", "build", "--gtfs", str(bad), "--out",
                          str(tmp_path / "b"), "--quiet"], capture_output=True, text=True)
    assert run.returncode == 1
    assert "stop_times.txt row 11" in run.stderr and "[foreign_key_violation]" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "b").exists()


def test_info_on_a_folder_that_is_not_a_bundle_says_so(tmp_path):
    run = subprocess.run([sys.executable, "-m", "api.cli", "info", str(tmp_path)],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "is not a trajet bundle" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_samples_build_options_come_from_the_manifest():
    from loaders.build import sample_options
    from loaders.samples import SampleError

    options = sample_options("tiny_town")
    assert options.gtfs == [SAMPLES / "tiny_town" / "gtfs"]
    assert options.osm == SAMPLES / "tiny_town" / "tiny_town.osm"
    assert options.parking_history == SAMPLES / "tiny_town" / "parking_occupancy.csv"
    assert options.parking_history_preset == "generic" and options.holidays_country == "FR"
    assert options.progress is False
    with pytest.raises(SampleError, match="unknown sample 'atlantis'"):
        sample_options("atlantis")


def test_the_cli_build_report_names_each_gtfs_error_the_feed_survives(tmp_path):
    # The tiny town's feed with one of each problem the GTFS validator calls an error but that
    # leaves the timetable usable (issue 17 item 9): the build succeeds and names each.
    feed = tmp_path / "gtfs"
    feed.mkdir()
    for f in (SAMPLES / "tiny_town" / "gtfs").iterdir():
        (feed / f.name).write_bytes(f.read_bytes())
    trips = (feed / "trips.txt").read_text().splitlines()
    (feed / "trips.txt").write_text("\n".join([trips[0] + ",shape_id"] + [r + ",GHOST" for r in trips[1:]])
                                    + "\n")
    (feed / "fare_rules.txt").write_text("fare_id,route_id\nF1,NO_SUCH_ROUTE\n")
    out = tmp_path / "b"
    run = subprocess.run([sys.executable, "-m", "api.cli", "build", "--gtfs", str(feed), "--out",
                          str(out), "--quiet"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "trips.txt row 2 column 'shape_id': shape_id 'GHOST'" in run.stderr
    assert "fare_rules.txt row 2 column 'fare_id': fare_id 'F1' is not in fare_attributes.txt" \
        in run.stderr
    assert "[foreign_key_violation] (2 in all)" in run.stderr  # the route_id too: one line per code
    totals = {(t["file"], t["code"]): t["count"] for t in read_manifest(out)["report"]["totals"]}
    assert totals[("trips.txt", "foreign_key_violation")] == len(trips) - 1
    assert totals[("fare_rules.txt", "foreign_key_violation")] == 2


def test_warnings_show_ids_plainly_not_as_numpy_scalars(tiny_town_bundle):
    from loaders.build import link_stops_to_streets
    from loaders.report import quoted

    assert quoted(np.str_("poa_eptc:4220")) == "'poa_eptc:4220'" and quoted(np.int64(3)) == "3"
    net = load_bundle(tiny_town_bundle)
    report = BuildReport()
    link_stops_to_streets(net.street, net.timetable, report, max_link_m=0.5)  # every stop "far"
    (notice,) = report.notices
    example = notice.message.split("(e.g. ", 1)[1].split(",", 1)[0]
    assert example in {repr(str(s)) for s in net.timetable.stop_ids}  # e.g. 'RELAIS_OUEST'
    assert "np." not in notice.message


def test_the_build_progress_bar_is_not_written_when_stderr_is_not_a_terminal(tmp_path, capfd):
    import io

    from loaders.progress import progress_bar

    options = BuildOptions(gtfs=[SAMPLES / "tiny_town" / "gtfs"], progress=True)
    build_bundle(options, tmp_path / "b", BuildReport())
    assert "trajet build" not in capfd.readouterr().err  # captured: not a terminal

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    shown, hidden = Terminal(), io.StringIO()
    for stream in (shown, hidden):
        with progress_bar(total=2, desc="steps", file=stream) as bar:
            bar.update(2)
    assert "steps" in shown.getvalue() and hidden.getvalue() == ""


def test_the_street_hierarchy_is_stored_only_when_asked(tmp_path):
    from loaders.bundle import read_manifest

    town = dict(osm=SAMPLES / "tiny_town" / "tiny_town.osm", timezone="Europe/Paris", progress=False)
    build_bundle(BuildOptions(**town), tmp_path / "plain", BuildReport())
    assert "street_hierarchy" not in read_manifest(tmp_path / "plain")
    build_bundle(BuildOptions(**town, street_hierarchy=True), tmp_path / "ch", BuildReport())
    assert read_manifest(tmp_path / "ch")["street_hierarchy"]["modes"] == ["WALK", "BICYCLE", "CAR"]
