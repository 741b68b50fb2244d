"""The labels of the options shown (issue 17 item 14): "least walking" goes to the option with the
fewest metres on foot, a cycling option with none included, while the Pareto filter still counts
walking and cycling together as effort."""
import numpy as np

from engine.planning.itinerary import Itinerary, Leg, Place
from engine.planning.pareto import Candidate, select_candidates

HOME, WORK = Place("Home", 7.50, 43.80), Place("Work", 7.52, 43.81)
PARK = Place("Car park", 7.515, 43.805)


def leg(mode: str, a: Place, b: Place, start_s: int, end_s: int, metres: float) -> Leg:
    return Leg(mode, a, b, start_s, end_s, metres, np.array([a.lon, b.lon]), np.array([a.lat, b.lat]))


def select(*candidates: Candidate):
    kept, _ = select_candidates(list(candidates), arrive_by=False, window=False, num_itineraries=5)
    return {c.mode: labels for c, labels in kept}


def test_least_walking_goes_to_a_bicycle_with_no_walking_not_to_a_car_park_walk():
    # cycling 2 km in 8 min, no walking; driving and 500 m on foot, 10 min, with a parking risk:
    # neither dominates the other (the car park option is less effort: 500 m against 2 km)
    bike = Candidate("BICYCLE", Itinerary(0, (leg("BICYCLE", HOME, WORK, 0, 480, 2000.0),)))
    car = Candidate("CAR_PARK", Itinerary(0, (leg("CAR", HOME, PARK, 0, 200, 1800.0),
                                              leg("WALK", PARK, WORK, 200, 600, 500.0))),
                    parking_risk=0.3)
    labels = select(bike, car)
    assert set(labels) == {"BICYCLE", "CAR_PARK"}          # both shown
    assert "least walking" in labels["BICYCLE"] and "fastest" in labels["BICYCLE"]
    assert "least walking" not in labels["CAR_PARK"]


def test_least_walking_among_walking_options_is_the_shortest_walk():
    walk = Candidate("WALK", Itinerary(0, (leg("WALK", HOME, WORK, 0, 1500, 1900.0),)))
    car = Candidate("CAR_PARK", Itinerary(0, (leg("CAR", HOME, PARK, 0, 200, 1800.0),
                                              leg("WALK", PARK, WORK, 200, 600, 500.0))))
    labels = select(walk, car)
    assert "least walking" in labels["CAR_PARK"]
