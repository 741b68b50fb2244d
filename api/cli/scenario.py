"""``trajet scenario check`` and ``trajet scenario run``: what changes if a car park closes, a bus
runs more often... (scenario files: :mod:`api.scenario_io`)."""
from __future__ import annotations

import json
from pathlib import Path

import click

from api.cli.options import executor_options, fail, load_network, open_executor


@click.group()
def scenario():
    """Planner scenarios: what changes if a car park closes, a bus runs more often..."""


def _scenario_file(file: Path, bundle_dir: Path | None):
    """The scenario file's contents and the bundle it applies to (``--bundle``, else the file's);
    fails with a clear message when the file is bad or names no bundle."""
    from api.scenario_io import ScenarioFileError, load_scenario_file

    try:
        sf = load_scenario_file(file)
    except ScenarioFileError as exc:
        fail(str(exc))
    bundle_dir = bundle_dir or sf.bundle
    if bundle_dir is None:
        fail(f"{file}: no 'bundle' in the file: pass --bundle")
    return sf, bundle_dir


def _apply_scenario(sf, network, file: Path):
    """(scenario network, changes) of the file's scenario on ``network``, or a clear failure."""
    from api.scenario_io import prepare_scenario
    from engine.scenario import ScenarioError

    try:
        return prepare_scenario(sf.scenario, network).apply(network)
    except ScenarioError as exc:
        fail(f"{file}: {exc}")


def _echo_changes(changes) -> None:
    for i, change in enumerate(changes):
        click.echo(f"  {i}. {change.kind}: {change}")


@scenario.command("check")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--bundle", "bundle_dir", type=click.Path(path_type=Path),
              help="The bundle to apply it to (default: the file's 'bundle').")
def scenario_check(file, bundle_dir):
    """Read a scenario file, apply its modifications and say what each one touches."""
    sf, bundle_dir = _scenario_file(file, bundle_dir)
    _, changes = _apply_scenario(sf, load_network(bundle_dir), file)
    click.echo(f"{sf.name}: {len(changes)} modification(s) on {bundle_dir}")
    _echo_changes(changes)


def _places(sf, network, file: Path):
    """(origins, destinations) of the scenario file, or a clear failure."""
    from api.scenario_io import ScenarioFileError, places_from_spec

    try:
        return (places_from_spec(sf.origins, network, base_dir=file.parent, file=file,
                                 field_name="origins"),
                places_from_spec(sf.destinations, network, base_dir=file.parent, file=file,
                                 field_name="destinations"))
    except ScenarioFileError as exc:
        fail(str(exc))


def _run_both(jobs: dict, pool, chunk_size, out_dir: Path, quiet: bool) -> dict:
    """The matrix table of each job ({"baseline": job, "scenario": job}) on ``pool``."""
    from api.batch import BatchError, run_matrix

    tables = {}
    for name, job in jobs.items():
        try:
            tables[name], _ = run_matrix(job, pool=pool, chunk_size=chunk_size,
                                         out_dir=out_dir / "chunks" / name, progress=not quiet)
        except BatchError as exc:
            fail(f"{name}: {exc}", code=1)
    return tables


def _write_tables(tables: dict, out_dir: Path, ext: str):
    """Write the baseline and scenario matrices and their difference per pair; the difference."""
    from api.scenario_io import difference_table, write_table

    write_table(tables["baseline"], out_dir / f"baseline.{ext}")
    write_table(tables["scenario"], out_dir / f"scenario.{ext}")
    diff = difference_table(tables["baseline"], tables["scenario"])
    write_table(diff, out_dir / f"difference.{ext}")
    return diff


def _summary(sf, file: Path, bundle_dir, changes, origins, destinations, diff) -> dict:
    """What summary.json holds: the run's inputs, then :func:`api.scenario_io.summarise`."""
    from api.scenario_io import summarise

    return {"scenario": sf.name, "file": str(file), "bundle": str(bundle_dir),
            "changes": [{"type": c.kind, "message": c.message, **c.counts} for c in changes],
            "origins": len(origins), "destinations": len(destinations),
            "departures": [d.isoformat() for d in sf.departures], "modes": list(sf.modes),
            "window_min": sf.window_min, **summarise(diff, destinations)}


def _plot(sf, network, scen_network, origins, diff, path: Path) -> None:
    """change_map.png: each origin's change, with what the scenario touched highlighted."""
    from api.scenario_io import (
        changed_stops,
        changed_street_edges,
        closed_facility_points,
        origin_changes,
        plot_change_map,
    )

    plot_change_map(network, origins, origin_changes(diff), path, title=sf.name,
                    highlight_edges=changed_street_edges(network, scen_network),
                    closed_points=closed_facility_points(network, scen_network),
                    stop_points=changed_stops(network, scen_network))


def _echo_summary(summary: dict, out_dir: Path, ext: str) -> None:
    if "mean_change_s" in summary:
        click.echo(f"travel time: mean change {summary['mean_change_s']:+.0f} s (p10 "
                   f"{summary['change_p10_s']:+.0f}, p50 {summary['change_p50_s']:+.0f}, p90 "
                   f"{summary['change_p90_s']:+.0f}); {100 * summary['share_improved']:.1f} % of pairs "
                   f"faster, {100 * summary['share_worse']:.1f} % slower")
    click.echo(f"pairs reachable: {summary['pairs_reachable_baseline']:,} -> "
               f"{summary['pairs_reachable_scenario']:,} of {summary['pairs']:,}")
    access = summary["accessibility"]
    unit = "opportunities" if access["weighted"] else "destinations"
    for cut in access["cutoffs_min"]:
        a = access[f"within_{cut}_min"]
        click.echo(f"{unit} within {cut} min (mean per origin): {a['baseline']:,.1f} -> {a['scenario']:,.1f}")
    click.echo(f"wrote {out_dir}/ (baseline, scenario, difference .{ext}, summary.json, change_map.png)")


@scenario.command("run")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help="Folder of the results (default: FILE's name + '-results' here).")
@click.option("--bundle", "bundle_dir", type=click.Path(path_type=Path),
              help="The bundle (default: the file's 'bundle', relative to the file).")
@click.option("--format", "table_format", type=click.Choice(["parquet", "csv"]), default="parquet",
              show_default=True, help="Format of the matrix and difference tables.")
@executor_options
def scenario_run(file, out_dir, bundle_dir, table_format, use_dask, scheduler, serial, workers,
                 chunk_size, quiet):
    """Run baseline and scenario on the same origins, destinations, times and modes.

    Writes baseline and scenario matrices, the difference per pair, summary.json (travel-time
    change, shares improved and worse, accessibility within 15/30/45 min) and change_map.png.
    """
    import dataclasses
    import shutil

    from api.batch import MatrixJob

    sf, bundle_dir = _scenario_file(file, bundle_dir)
    out_dir = out_dir or Path(f"{file.stem}-results")
    network = load_network(bundle_dir)
    origins, destinations = _places(sf, network, file)
    scen_network, changes = _apply_scenario(sf, network, file)
    click.echo(f"{sf.name}")
    _echo_changes(changes)
    base_job = MatrixJob(bundle=str(bundle_dir), origins=origins, destinations=destinations,
                         departures=sf.departures, modes=sf.modes, window_min=sf.window_min,
                         percentiles=sf.percentiles, max_time_s=sf.max_time_s, options=sf.options,
                         scenario_name="baseline")
    scen_job = dataclasses.replace(base_job, scenario_specs=sf.modification_specs, scenario_name=sf.name)
    with open_executor(use_dask, scheduler, serial, workers) as pool:
        tables = _run_both({"baseline": base_job, "scenario": scen_job}, pool, chunk_size, out_dir, quiet)
    diff = _write_tables(tables, out_dir, table_format)
    summary = _summary(sf, file, bundle_dir, changes, origins, destinations, diff)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8")
    _plot(sf, network, scen_network, origins, diff, out_dir / "change_map.png")
    shutil.rmtree(out_dir / "chunks", ignore_errors=True)
    _echo_summary(summary, out_dir, table_format)
