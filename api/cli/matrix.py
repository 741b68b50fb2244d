"""``trajet matrix``: travel times from every origin to every destination, in parallel chunks."""
from __future__ import annotations

import time
from pathlib import Path

import click

from api.cli.options import (
    bundle_argument,
    executor_options,
    fail,
    load_network,
    open_executor,
    travel_options,
)
from engine.planning.matrix import DEFAULT_MAX_TIME_S


def places_option(text: str, network, option: str):
    """``stops``, ``grid:SPACING_M`` or a CSV/GeoJSON file -> Places; BadParameter otherwise."""
    from api.scenario_io import ScenarioFileError, grid_places, read_places, stop_places

    try:
        if text.strip().lower() == "stops":
            return stop_places(network)
        if text.lower().startswith("grid:"):
            try:
                spacing = float(text.split(":", 1)[1])
            except ValueError:
                raise click.BadParameter(f"{text!r}: expected grid:SPACING_M (e.g. grid:400)",
                                         param_hint=option) from None
            return grid_places(network, spacing)
        return read_places(text)
    except ScenarioFileError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _matrix_options(**kw):
    """engine.planning.PlanOptions of the travel options (BadParameter when out of range)."""
    from engine.planning.options import PlanOptions

    try:
        return PlanOptions(**kw)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _check_one_pair(network, job, when) -> None:
    """Fail early, in this process, on what every chunk would fail on (one origin, one
    destination, at most one minute of the window)."""
    from engine.planning.matrix import MatrixError, travel_time_matrix

    try:
        travel_time_matrix(network, job.origins.lonlat[:1], job.destinations.lonlat[:1],
                           departure=when, modes=job.modes, window_min=min(job.window_min, 1),
                           percentiles=job.percentiles, max_time_s=job.max_time_s,
                           breakdown=job.breakdown, options=job.options)
    except (MatrixError, ValueError) as exc:
        fail(str(exc))


def _report(job, table, report, workers: int, seconds: float, out_file: Path) -> None:
    n_o, n_d = len(job.origins), len(job.destinations)
    reach = float(table["travel_time_s"].notna().mean()) if len(table) else 0.0
    reused = f", {len(report.reused)} reused" if report.reused else ""
    click.echo(f"{n_o:,} x {n_d:,} pairs ({', '.join(job.modes)}), {report.n_chunks} chunks"
               f"{reused} on {workers} {report.executor} worker(s) in {seconds:.1f} s "
               f"({n_o / max(seconds, 1e-9):,.1f} origins/s); {100 * reach:.1f} % reachable")
    click.echo(f"wrote {out_file}")


@click.command()
@bundle_argument
@click.option("--origins", required=True, metavar="FILE|stops|grid:M",
              help="A CSV (id, lon, lat[, weight]) or GeoJSON of points, 'stops' (every served stop) "
                   "or grid:SPACING_M (a grid over the network).")
@click.option("--destinations", required=True, metavar="FILE|stops|grid:M", help="As --origins.")
@click.option("--departure", required=True, metavar="ISO",
              help="Local departure time (the network's timezone unless it has an offset).")
@click.option("--modes", default="TRANSIT", show_default=True,
              help="Comma-separated: WALK, BICYCLE, CAR (door to door, no parking), CAR_PARK, TRANSIT "
                   "(the fastest counts).")
@click.option("--window", "window_min", type=click.IntRange(0, 24 * 60), default=0,
              help="Every minute of this window after --departure: travel_time_s is the median.")
@click.option("--percentiles", default="", metavar="P,P,...",
              help="Percentiles over the window, e.g. 25,50,75.")
@click.option("--breakdown", is_flag=True,
              help="Add access, wait, ride, transfer walk, egress and transfers (transit).")
@click.option("--max-time", "max_time_min", type=float, default=DEFAULT_MAX_TIME_S / 60,
              show_default=True, help="Pairs slower than this many minutes are unreachable (NaN).")
@travel_options
@executor_options
@click.option("--out", "out_file", required=True, type=click.Path(path_type=Path),
              help="The table to write: .parquet or .csv.")
@click.option("--keep-chunks", is_flag=True,
              help="Keep the chunk files (OUT.chunks/) after the table is written.")
def matrix(bundle_dir, origins, destinations, departure, modes, window_min, percentiles, breakdown,
           max_time_min, walk_speed_mps, bike_speed_mps, bike_lane_preference, max_walk_m,
           max_transfers, use_dask, scheduler, serial, workers, chunk_size, quiet, out_file, keep_chunks):
    """Travel-time matrix from every origin to every destination: a long table
    from_id, to_id, travel_time_s (NaN when unreachable).

    Chunks of origins run in parallel and are written to OUT.chunks/ as they finish: running the
    same command again after an interruption resumes from them.
    """
    import shutil

    from api.batch import BatchError, MatrixJob, run_matrix
    from api.scenario_io import ScenarioFileError, parse_departure, write_table
    from engine.planning.matrix import MatrixError, parse_modes

    if out_file.suffix.lower() not in (".parquet", ".csv"):
        fail(f"--out {out_file}: use a .parquet or .csv file name")
    try:
        mode_names = parse_modes(modes)
        when = parse_departure(departure, field_name="--departure")
        pcts = tuple(float(p) for p in percentiles.split(",") if p.strip())
    except (MatrixError, ScenarioFileError, ValueError) as exc:
        fail(f"{exc}")
    network = load_network(bundle_dir)
    job = MatrixJob(bundle=str(bundle_dir), origins=places_option(origins, network, "--origins"),
                    destinations=places_option(destinations, network, "--destinations"),
                    departures=(when,), modes=mode_names, window_min=window_min, percentiles=pcts,
                    max_time_s=max_time_min * 60, breakdown=breakdown,
                    options=_matrix_options(walk_speed_mps=walk_speed_mps, bike_speed_mps=bike_speed_mps,
                                            bike_lane_preference=bike_lane_preference,
                                            max_walk_m=max_walk_m, max_transfers=max_transfers))
    _check_one_pair(network, job, when)
    chunks_dir = out_file.with_name(out_file.name + ".chunks")
    t0 = time.perf_counter()
    with open_executor(use_dask, scheduler, serial, workers) as pool:
        try:
            table, report = run_matrix(job, pool=pool, chunk_size=chunk_size, out_dir=chunks_dir,
                                       progress=not quiet)
        except BatchError as exc:
            fail(str(exc), code=1)
    write_table(table, out_file)
    if not keep_chunks:
        shutil.rmtree(chunks_dir, ignore_errors=True)
    _report(job, table, report, pool.workers, time.perf_counter() - t0, out_file)
