"""What a bike-share itinerary says about its stations: why this one, why not that one.

The numbers come from :class:`engine.parking.choice.FacilityChoice` (the ranking shared with car
parks) over an :class:`engine.parking.choice.Outlook` whose ``p_free`` is p(bike) at a pick-up or
p(dock) at a drop-off; the words are the bike's: "Kaivopuisto usually empties by 08:30 (12% chance
of a bike): go to Laivasillankatu, 250 m further".
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from engine.parking.bikes import READING_HALF_LIFE_S
from engine.parking.choice import FacilityChoice, chance_words, local_hhmm
from engine.parking.forecasting import ForecastBasis


@dataclass(frozen=True)
class Side:
    """The words of one end of the ride: pick-up (a bike) or drop-off (a dock)."""

    thing: str            # "bike" or "free dock"
    empty: str            # "empties" or "fills up"
    closed: str           # "is not renting bikes now" or "is not taking bikes back now"


PICKUP = Side("bike", "empties", "is not renting bikes now")
DROPOFF = Side("free dock", "fills up", "is not taking bikes back now")


def _minutes(seconds: float) -> str:
    return f"{max(1, round(float(seconds) / 60))} min"


def _fading(side: Side, count: float, age_s: float) -> str:
    n = int(count)
    return (f"{n} {side.thing}{'' if n == 1 else 's'} seen {_minutes(age_s)} before; with too little "
            f"history a reading fades to unknown with a half-life of {round(READING_HALF_LIFE_S / 60)} min")


def chosen_reason(side: Side, name: str, choice: FacilityChoice, row: int, walk_s: float,
                  timezone: str, *, decayed: bool, age_s: float) -> str:
    """"Laivasillankatu, 4 min walk, 86% chance of a bike at 08:30"."""
    view = choice.outlook
    if view.basis[row] == ForecastBasis.UNKNOWN:
        return f"{name}, {_minutes(walk_s)} walk: {side.thing}s unknown (no reading, no history)"
    when = local_hhmm(timezone, int(view.arrive_utc_s[row]))
    text = (f"{name}, {_minutes(walk_s)} walk, {chance_words(view.p_free[row], side.thing)} "
            f"at {when}")
    if decayed and math.isfinite(age_s):
        text += f" ({_fading(side, view.expected_free[row], age_s)})"
    return text


def avoided_reason(side: Side, name: str, choice: FacilityChoice, row: int, timezone: str, *,
                   closed: bool, decayed: bool, age_s: float, chosen_name: str | None,
                   further_m: float) -> str:
    """Why a station nearer (or quicker) than the chosen one was passed over."""
    view = choice.outlook
    p = float(view.p_free[row])
    when = local_hhmm(timezone, int(view.arrive_utc_s[row]))
    if closed:
        text = f"{name} {side.closed}"
    elif decayed and math.isfinite(age_s):
        text = (f"{name}: {chance_words(p, side.thing)} at {when} "
                f"({_fading(side, view.expected_free[row], age_s)})")
    elif view.basis[row] == ForecastBasis.LIVE:
        text = f"{name} is expected to have no {side.thing} by {when} ({chance_words(p, side.thing)})"
    else:
        text = f"{name} usually {side.empty} by {when} ({chance_words(p, side.thing)})"
    if chosen_name is not None:
        text += f": go to {chosen_name}" + (f", {round(further_m / 10) * 10:.0f} m further"
                                            if further_m >= 10 else "")
    return text
