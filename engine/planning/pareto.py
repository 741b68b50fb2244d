"""Choosing what to show: the candidates every mode gives, the Pareto filter over them, the
near-duplicates dropped and the labels (module docstring of ``engine.planning.planner``)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.planning.itinerary import Itinerary
from engine.planning.reasons import DOMINATED, NOT_SELECTED

LABELS = ("fastest", "fewest transfers", "least walking", "no car park risk")
"""Labels of the options shown. "least walking" goes to the option with the fewest metres on
foot (``Itinerary.walk_distance_m``: a cycling option with no walking has none), though the
Pareto filter counts walking and cycling together as effort (:func:`_criteria`)."""

PARETO_SLACK = (60.0, 0.0, 100.0, 0.05)
"""Differences too small to make an option distinct, per criterion: a minute, no transfer,
100 m of walking, 5 points of parking risk (see :func:`plan_trip`)."""


@dataclass(eq=False)
class Candidate:
    """One itinerary a mode offers, with the parking risk (1 - p_free) of the car park it uses."""

    mode: str
    itinerary: Itinerary
    parking_risk: float = 0.0


def active_m(it) -> float:
    """Metres the traveller covers under their own power: walking plus cycling."""
    cycled = sum(float(leg.distance_m) for leg in it.legs if leg.mode == "BICYCLE")
    return float(it.walk_distance_m) + cycled


def _criteria(c: Candidate, arrive_by: bool, window: bool) -> tuple[float, ...]:
    """(arrival, or minus the departure for arrive-by; transfers; walking and cycling m; parking
    risk), all to minimise; with a transit window, the other end of the trip too (a later
    departure, an earlier arrival), so that the departures of the window are not dominated by
    the first. Cycling counts with walking as effort: were it free, a bicycle would dominate
    nearly every option in a compact city and a driver asking to compare would see only it."""
    it = c.itinerary
    time_key = -it.start_s if arrive_by else it.end_s
    keys = (float(time_key), float(it.transfers), round(active_m(it), 1),
            round(float(c.parking_risk), 3))
    if window:
        keys += (float(it.end_s if arrive_by else -it.start_s),)
    return keys


def _dominates(a, b) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(x < y for x, y in zip(a, b, strict=True))


def _near_dominates(a, b, slack) -> bool:
    """a is within the slack of b on every criterion and at least as good on one: b adds
    nothing distinct (a equal to b counts)."""
    return (all(x <= y + e for x, y, e in zip(a, b, slack, strict=True))
            and any(x <= y for x, y in zip(a, b, strict=True)))


def _signature(c: Candidate) -> tuple:
    return (c.mode,) + tuple((leg.mode, leg.trip_id, leg.from_place.name, leg.to_place.name,
                              leg.start_s, leg.end_s) for leg in c.itinerary.legs)


def select_candidates(candidates: list[Candidate], *, arrive_by: bool, window: bool, num_itineraries: int
                     ) -> tuple[list[tuple[Candidate, tuple[str, ...]]], dict]:
    """(kept candidates with their labels, {mode: (code, dominating mode)} for the others)."""
    unique: dict = {}
    for c in candidates:
        unique.setdefault(_signature(c), c)
    cands = list(unique.values())
    keys = [_criteria(c, arrive_by, window) for c in cands]
    front = [i for i, k in enumerate(keys)
             if not any(_dominates(keys[j], k) for j in range(len(cands)) if j != i)]
    # distinct options: going through the front from the fastest, an option within the slack of
    # one already kept on every criterion (and worse on one) is a near-duplicate of it
    slack = PARETO_SLACK + ((PARETO_SLACK[0],) if window else ())
    pareto: list[int] = []
    for i in sorted(front, key=lambda i: keys[i]):
        if not any(_near_dominates(keys[j], keys[i], slack) for j in pareto):
            pareto.append(i)
    labels: dict[int, list[str]] = {i: [] for i in pareto}
    if pareto:
        def best(key, among):
            return min(among, key=key)
        labels[best(lambda i: (keys[i][0], keys[i][1], keys[i][2], keys[i][3]), pareto)].append("fastest")
        labels[best(lambda i: (keys[i][1], keys[i][0], keys[i][2], keys[i][3]), pareto)].append(
            "fewest transfers")
        walk_m = {i: round(float(cands[i].itinerary.walk_distance_m), 1) for i in pareto}
        labels[best(lambda i: (walk_m[i], keys[i][2], keys[i][0], keys[i][1], keys[i][3]),
                    pareto)].append("least walking")
        risky = [i for i in pareto if keys[i][3] > 0]
        safe = [i for i in pareto if keys[i][3] == 0]
        if risky and safe:
            labels[best(lambda i: (keys[i][0], keys[i][1], keys[i][2]), safe)].append("no car park risk")
    labelled = [i for i in pareto if labels[i]]
    labelled.sort(key=lambda i: min(LABELS.index(lab) for lab in labels[i]))
    rest = sorted((i for i in pareto if not labels[i]), key=lambda i: keys[i])
    chosen = (labelled + rest)[:num_itineraries]
    chosen.sort(key=lambda i: keys[i])
    kept = [(cands[i], tuple(labels[i])) for i in chosen]
    kept_modes = {cands[i].mode for i in chosen}
    in_front = {cands[i].mode for i in pareto}
    why: dict = {}
    for i, c in enumerate(cands):
        if c.mode in kept_modes or c.mode in why:
            continue
        if c.mode in in_front:
            why[c.mode] = (NOT_SELECTED, None)
            continue
        # dominated, or a near-duplicate of one kept
        by = next((j for j in pareto if _near_dominates(keys[j], keys[i], slack)), None)
        why[c.mode] = (DOMINATED, cands[by].mode if by is not None else None)
    return kept, why
