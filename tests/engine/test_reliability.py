"""Transfer reliability (engine/planning/reliability.py): exact probabilities on hand-made cases."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.planning.reliability import (
    DEFAULT_DELAY_MODEL,
    DelayModel,
    TransferReliability,
    reliability_label,
    transfer_probability,
)

RAIL = 2


def test_uncertainty_gives_a_normal_probability():
    p, basis = transfer_probability(60, route_type=RAIL, realtime=True, uncertainty_s=60)
    assert basis == "realtime_uncertainty"
    assert p == pytest.approx(0.5 * (1 + math.erf(1 / math.sqrt(2))))    # Phi(1) = 0.8413
    assert transfer_probability(0, route_type=RAIL, realtime=True, uncertainty_s=30)[0] == 0.5
    assert transfer_probability(-1, route_type=RAIL, realtime=True, uncertainty_s=0)[0] == 0.0
    assert transfer_probability(0, route_type=RAIL, realtime=True, uncertainty_s=0)[0] == 1.0


def test_default_model_is_exponential_with_mean_120_s():
    p, basis = transfer_probability(120, route_type=RAIL)
    assert basis == "default_delays" and p == pytest.approx(1 - math.exp(-1))
    assert transfer_probability(-5, route_type=RAIL)[0] == 0.0
    # memoryless: a vehicle already 300 s late holds a 120 s slack as often
    assert transfer_probability(120, route_type=RAIL, realtime=True, known_delay_s=300)[0] == \
        pytest.approx(1 - math.exp(-1))


def test_learnt_distribution_is_the_empirical_one_per_route_type():
    model = DelayModel(min_samples=5).with_samples({RAIL: [0, 0, 60, 120, 300]})
    p, basis = transfer_probability(60, route_type=RAIL, model=model)
    assert basis == "learnt_delays" and p == pytest.approx(3 / 5)
    assert transfer_probability(59, route_type=RAIL, model=model)[0] == pytest.approx(2 / 5)
    # another route type has no samples: the default
    assert transfer_probability(60, route_type=3, model=model)[1] == "default_delays"
    # known delay 60 s, slack 60 s: P(D <= 120 | D >= 60) = (4/5 - 2/5) / (1 - 2/5) = 2/3
    p, basis = transfer_probability(60, route_type=RAIL, model=model, realtime=True, known_delay_s=60)
    assert basis == "realtime_delay" and p == pytest.approx(2 / 3)
    # too few samples: the default
    few = DelayModel(min_samples=6).with_samples({RAIL: [0, 0, 60, 120, 300]})
    assert transfer_probability(60, route_type=RAIL, model=few)[1] == "default_delays"


def test_the_model_keeps_the_newest_samples():
    model = DelayModel(min_samples=1).with_samples({RAIL: [1000] * 3}, max_per_type=4)
    model = model.with_samples({RAIL: [0, 0, 0]}, max_per_type=4)
    assert np.sort(model.samples[RAIL]).tolist() == [0, 0, 0, 1000]
    assert model.cdf(RAIL, 0) == 0.75
    assert DEFAULT_DELAY_MODEL.summary() == {}


def test_labels():
    def t(p):
        return TransferReliability(0, 2, "X", 60, p, "default_delays")
    assert reliability_label([]) == "robust"
    assert reliability_label([t(0.95), t(0.99)]) == "robust"
    assert reliability_label([t(0.96), t(0.7)]) == "tight connection: 70 %"
    assert reliability_label([t(0.844)]) == "tight connection: 84 %"
