"""Schemathesis over the whole API, against `trajet serve` on the Monaco sample, for minutes.

    python bench/schemathesis_run.py                  # 150 s, every check, every phase
    python bench/schemathesis_run.py --seconds 30     # a shorter look

Starts ``trajet serve BUNDLE`` (gunicorn, as ``bench/api_load.py`` does: ``--workers`` processes,
ingest enabled with a throw-away token and observations database) on a free 127.0.0.1 port, waits
for /readyz, then runs the schemathesis CLI against its ``/api/v1/openapi.json`` for ``--seconds``:
every phase (examples, coverage, fuzzing, stateful), positive and negative data, every check
(``--checks all``: not_a_server_error, positive_data_acceptance, negative_data_rejection,
status_code_conformance, content_type_conformance, response_schema_conformance,
response_headers_conformance, missing_required_header, unsupported_method...). The fuzzing phase
repeats until the time is spent.

Prints one row per failure kind (its schemathesis code, the operations, how many distinct
failures) and the answers the positive data acceptance check refused, by error code (read back
from the run's NDJSON events), then as the last line one JSON object: seconds, server errors,
valid requests rejected, operations, requests. The target is 0 server errors and 0 valid requests
rejected. The observations endpoint also refuses schema-valid bodies for reasons that depend on the
network's data (a facility id it does not have, more free spaces than the facility holds): those
are counted apart, by code, as ``valid_rejected_by_data``.

Exits 1 when a server error or a rejected valid request was found. Touches only 127.0.0.1.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from api_load import _free_port, ensure_bundle, start_server  # noqa: E402

TOKEN = "bench-token-not-a-secret"
OBSERVATIONS = "POST /api/v1/parking/observations"
DATA_DEPENDENT_CODES = {"UNKNOWN_FACILITY", "EXCEEDS_CAPACITY", "CAPACITY_UNKNOWN",
                        "INCONSISTENT_VALUES", "MISSING_VALUE", "FUTURE_TIMESTAMP",
                        "OBSERVATION_TOO_OLD", "CAPACITY_IMPLAUSIBLE", "NEGATIVE_VALUE"}
"""Codes of the observations endpoint that depend on the network (its facilities, their
capacities) or on the clock: a fixed OpenAPI document cannot state them."""


def run_schemathesis(port: int, seconds: float, workers: int, seed: int, out: Path) -> int:
    """Run the schemathesis CLI; its JSON and NDJSON reports go to ``out``. Returns its exit code."""
    cli = Path(sys.executable).with_name("schemathesis")
    command = [str(cli) if cli.exists() else "schemathesis", "run",
               f"http://127.0.0.1:{port}/api/v1/openapi.json", "--checks", "all", "--mode", "all",
               "--max-time", str(int(seconds)), "--max-examples", "1000000", "--continue-on-failure",
               "--workers", str(workers), "--seed", str(seed), "--request-timeout", "30",
               "-H", f"Authorization: Bearer {TOKEN}", "-H", "Accept-Encoding: identity",
               "--report", "json,ndjson", "--report-json-path", str(out / "schemathesis.json"),
               "--report-ndjson-path", str(out / "schemathesis.ndjson"), "--no-color"]
    with open(out / "schemathesis.out", "w") as log:
        return subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, cwd=out).returncode


def failed_cases(ndjson: Path) -> tuple[Counter, int]:
    """(test cases failing a check, counted by (schemathesis code, operation, the answer's error
    code); requests sent), read from the NDJSON events of the run."""
    codes: Counter = Counter()
    requests = 0
    with open(ndjson) as events:
        for line in events:
            recorder = json.loads(line).get("ScenarioFinished", {}).get("recorder")
            if not recorder:
                continue
            interactions = recorder.get("interactions", {})
            requests += len(interactions)
            for case_id, checks in recorder.get("checks", {}).items():
                for check in checks:
                    failure = (check.get("failure_info") or {}).get("failure") or {}
                    if failure:
                        response = (interactions.get(case_id) or {}).get("response") or {}
                        codes[(failure.get("code", "?"), failure.get("operation", "?"),
                               _error_code(response))] += 1
    return codes, requests


def _error_code(response: dict) -> str:
    """The ``code`` of a recorded JSON error body, or ``?``."""
    content = response.get("content") or {}
    try:
        body = base64.b64decode(content.get("$base64", "")) if isinstance(content, dict) else b""
        return str(json.loads(body).get("code"))
    except (ValueError, AttributeError):
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "bundles" / "monaco")
    parser.add_argument("--sample", default="monaco", help="sample to build when --bundle is missing")
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--st-workers", type=int, default=2, help="concurrent schemathesis workers")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()

    ensure_bundle(args.bundle, args.sample)
    out = ROOT / "bench" / "out" / "schemathesis"
    out.mkdir(parents=True, exist_ok=True)
    # the server runs this checkout's code, with ingest on (throw-away token and database)
    os.environ.update(PYTHONPATH=str(ROOT), TRAJET_INGEST_TOKEN=TOKEN)
    (out / "server.sqlite").unlink(missing_ok=True)
    port = _free_port()
    proc, log = start_server(args.bundle, port, args.workers, args.threads, out / "server.log")
    try:
        t0 = time.monotonic()
        exit_code = run_schemathesis(port, args.seconds, args.st_workers, args.seed, out)
        wall = time.monotonic() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    report = json.loads((out / "schemathesis.json").read_text())
    cases, requests = failed_cases(out / "schemathesis.ndjson")
    return print_report(report, cases, requests, wall, exit_code, out)


def print_report(report: dict, cases: Counter, requests: int, wall: float, exit_code: int,
                 out: Path) -> int:
    failures = report.get("failures", [])
    print(f"schemathesis {report.get('schemathesis_version')} against trajet serve, "
          f"{wall:.0f} s, seed {report.get('seed')}; stop reason: {report.get('stop_reason')}")
    print(f"operations tested {report['operations']['tested']}/{report['operations']['total']}, "
          f"test cases {report['test_cases']['generated']:,}, requests {requests:,}")
    print(f"\n{'code':<7}{'failure':<40}{'distinct':>9}  operations")
    for f in failures:
        print(f"{f['code']:<7}{f['title'][:39]:<40}{f['count']:>9}  {', '.join(f['operations'])}")
    if not failures:
        print("(no failure)")
    for e in report.get("errors", []):
        print(f"error: {e['title']} x{e['count']}")
    if cases:
        print(f"\n{'code':<7}{'operation':<38}{'answer':<24}{'cases':>6}")
        for (st_code, op, code), n in sorted(cases.items()):
            by_data = st_code == "ST202" and op == OBSERVATIONS and code in DATA_DEPENDENT_CODES
            print(f"{st_code:<7}{op:<38}{code:<24}{n:>6}" + ("  (depends on the network's data)"
                                                           if by_data else ""))
    server_errors = sum(n for (st_code, _, _), n in cases.items() if st_code == "ST101")
    rejected = {key: n for key, n in cases.items() if key[0] == "ST202"}
    by_data = sum(n for (_, op, code), n in rejected.items()
                  if op == OBSERVATIONS and code in DATA_DEPENDENT_CODES)
    valid_rejected = sum(rejected.values()) - by_data
    print(f"\nfull output: {out / 'schemathesis.out'}")
    print(json.dumps({"schemathesis_seconds": round(wall), "server_errors": server_errors,
                      "valid_rejected": valid_rejected, "valid_rejected_by_data": by_data,
                      "other_failing_cases": sum(cases.values()) - server_errors - sum(rejected.values()),
                      "operations": report["operations"]["tested"],
                      "test_cases": report["test_cases"]["generated"], "requests": requests,
                      "schemathesis_exit_code": exit_code}))
    return 1 if server_errors or valid_rejected else 0


if __name__ == "__main__":
    raise SystemExit(main())
