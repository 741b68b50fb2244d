"""Build time, bundle size, load time and peak memory of the sample bundles.

Run from the project root: ``python bench/build.py [--samples monaco montpellier]``.
Each build runs in a fresh subprocess (so peak RSS is the build's own, imports included); loads
are timed in-process after imports, the first load (cold page cache for the bundle's files is not
guaranteed) and the median of five.
Targets (issue 2): Monaco builds in under 30 s; its bundle loads in under 1 s.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from loaders.build import build_bundle, sample_options
from loaders.report import BuildReport
t_import = time.perf_counter() - t0
options = sample_options(sys.argv[1])
t1 = time.perf_counter()
network, counts = build_bundle(options, sys.argv[2], BuildReport())
t_build = time.perf_counter() - t1
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"import_s": t_import, "build_s": t_build, "peak_mib": peak_mib,
                  "steps": network.metadata["timings_s"], "counts": counts}))
"""


def _bundle_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def measure(sample: str, workdir: Path) -> dict:
    out = workdir / sample
    t0 = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", _CHILD, sample, str(out)], cwd=ROOT,
                         capture_output=True, text=True)
    wall_s = time.perf_counter() - t0
    if run.returncode != 0:
        raise SystemExit(f"build of {sample} failed:\n{run.stderr[-3000:]}")
    child = json.loads(run.stdout.strip().splitlines()[-1])

    from loaders.bundle import load_bundle

    loads = []
    for _ in range(6):
        t = time.perf_counter()
        network = load_bundle(out)
        loads.append(time.perf_counter() - t)
    assert network.timezone
    return {"sample": sample, "build_s": child["build_s"], "build_wall_s": wall_s,
            "import_s": child["import_s"], "peak_mib": child["peak_mib"],
            "bundle_mib": _bundle_bytes(out) / 2**20, "load_first_s": loads[0],
            "load_median_s": statistics.median(loads[1:]), "steps": child["steps"],
            "stop_times": child["counts"].get("stop_times", 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", nargs="+", default=["monaco", "montpellier"])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="trajet-bench-build-") as tmp:
        for sample in args.samples:
            rows.append(measure(sample, Path(tmp)))
    print(f"{'sample':<12} {'build s':>8} {'peak MiB':>9} {'bundle MiB':>11} {'load s (1st)':>13} "
          f"{'load s (med)':>13}   steps (s)")
    for r in rows:
        steps = ", ".join(f"{k} {v:.2f}" for k, v in r["steps"].items())
        print(f"{r['sample']:<12} {r['build_s']:>8.2f} {r['peak_mib']:>9.0f} {r['bundle_mib']:>11.1f} "
              f"{r['load_first_s']:>13.3f} {r['load_median_s']:>13.3f}   {steps}")
    headline = {}
    for r in rows:
        s = r["sample"]
        headline.update({f"{s}_build_s": round(r["build_s"], 2),
                         f"{s}_load_s": round(r["load_median_s"], 3),
                         f"{s}_bundle_mib": round(r["bundle_mib"], 1),
                         f"{s}_peak_mib": round(r["peak_mib"])})
    print(json.dumps(headline))


if __name__ == "__main__":
    main()
