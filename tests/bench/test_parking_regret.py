"""bench/parking_regret.py --market-share: a share of drivers follow trajet's advice (recorded as
drivers sent), the others drive to the nearest car park."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "parking_regret.py"


def _run(*args):
    return subprocess.run([sys.executable, str(BENCH), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_a_market_share_splits_the_trips_and_reports_both_groups():
    run = _run("--trips", "500", "--market-share", "30", "--seed", "3")
    assert run.returncode == 0, run.stderr
    head = json.loads(run.stdout.strip().splitlines()[-1])
    assert head["trips"] == 500 and head["market_share_pct"] == 30.0 and head["compliance"] == 1.0
    # about 30 % of the trips are app users (binomial: 150 +- 3 sd of 10)
    assert 120 <= head["app_user_trips"] <= 180
    # the others drive to the nearest car park: the population mean mixes both groups exactly
    app, others = head["app_users_mean_s"], head["others_mean_s"]
    n_app = head["app_user_trips"]
    mixed = (n_app * app + (500 - n_app) * others) / 500
    assert abs(mixed - head["mean_s_trajet"]) < 0.2
    # trajet's advice is not worse than the nearest car park for its users on Monaco's held-out days
    assert head["app_users_ratio_vs_nearest_car_park"] < 1.0


def test_a_market_share_outside_0_100_is_refused_with_its_name():
    run = _run("--trips", "500", "--market-share", "130")
    assert run.returncode != 0
    assert "--market-share must be between 0 and 100" in run.stderr
