"""How sure an itinerary is of its connections: the probability that each transfer holds.

A transfer from an incoming vehicle (arriving at ``arrival_s``) to an outgoing one (departing at
``departure_s``) with ``transfer_s`` of walking or changing between them has the slack
``departure_s - arrival_s - transfer_s`` (seconds; the times the itinerary shows, real-time ones
when known). It holds when the incoming vehicle's *further* delay D (beyond what the itinerary
already counts) is at most the slack. The outgoing vehicle is taken as leaving on time (its own
delay can only help, so the figure errs on the safe side). P(D <= slack) comes from, in order:

1. **The update's uncertainty**: when the arrival is real-time and the feed gives
   ``StopTimeEvent.uncertainty`` u (seconds), D ~ Normal(0, u): p = Phi(slack / u) (u = 0: the
   prediction is exact, p = 1 when slack >= 0, else 0).
2. **A real-time arrival without uncertainty**: the vehicle is known to be ``known_delay_s``
   late; D is the learnt delay distribution of its route type *given a delay of at least the
   known one*: p = (F(known + slack) - F(known-)) / (1 - F(known-)), where F- is the left limit.
   For the default exponential this is memoryless: p = 1 - exp(-slack / mean).
3. **No real-time data**: p = F(slack), the learnt distribution of arrival delays of the
   vehicle's route type.

The learnt distribution (:class:`DelayModel`) is the empirical distribution of the arrival
delays seen in trip updates so far for that GTFS route_type (at least :data:`MIN_SAMPLES` of
them); below that, the documented default: delays are exponential with mean
:data:`DEFAULT_MEAN_DELAY_S` (120 s, the order of typical urban rail and bus delays: most
vehicles within a minute or two, a thin tail of long delays), F(x) = 1 - exp(-x / 120) for
x >= 0 and 0 before (no vehicle is taken to arrive early).

An itinerary is labelled ``robust`` when every transfer holds with p >= :data:`ROBUST_P` (0.95),
else ``tight connection: 70 %`` with its least likely transfer's probability, rounded. Pure
functions: the same inputs give the same probabilities.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

DEFAULT_MEAN_DELAY_S = 120.0
MIN_SAMPLES = 30
MAX_SAMPLES_PER_TYPE = 5_000
ROBUST_P = 0.95

BASIS_UNCERTAINTY = "realtime_uncertainty"
BASIS_REALTIME = "realtime_delay"
BASIS_LEARNT = "learnt_delays"
BASIS_DEFAULT = "default_delays"


@dataclass(frozen=True, eq=False)
class DelayModel:
    """Arrival delays seen per GTFS route_type (seconds; positive = late), in the order seen."""

    samples: Mapping[int, np.ndarray] = field(default_factory=dict)
    default_mean_s: float = DEFAULT_MEAN_DELAY_S
    min_samples: int = MIN_SAMPLES

    def __post_init__(self) -> None:
        # sorted once: every probability is a binary search
        object.__setattr__(self, "_sorted", {int(k): np.sort(np.asarray(v, dtype=np.int64))
                                             for k, v in self.samples.items()})

    def learnt(self, route_type: int) -> np.ndarray | None:
        """The sorted samples of ``route_type`` when there are enough of them, else None."""
        s = self._sorted.get(int(route_type))
        return s if s is not None and s.size >= self.min_samples else None

    def cdf(self, route_type: int, x_s: float) -> float:
        """P(delay <= x_s) for a vehicle of ``route_type``."""
        s = self.learnt(route_type)
        if s is None:
            return 0.0 if x_s < 0 else 1.0 - math.exp(-x_s / self.default_mean_s)
        return float(np.searchsorted(s, x_s, side="right")) / s.size

    def cdf_below(self, route_type: int, x_s: float) -> float:
        """P(delay < x_s) (the left limit of :meth:`cdf`)."""
        s = self.learnt(route_type)
        if s is None:
            return self.cdf(route_type, x_s)   # continuous
        return float(np.searchsorted(s, x_s, side="left")) / s.size

    def with_samples(self, delays: Mapping[int, Sequence[int]],
                     max_per_type: int = MAX_SAMPLES_PER_TYPE) -> DelayModel:
        """A model with ``delays`` (route_type -> seconds) added; the newest ``max_per_type``
        samples of each type are kept (the oldest dropped first)."""
        out = {int(k): np.asarray(v, dtype=np.int64) for k, v in self.samples.items()}
        for route_type, values in delays.items():
            new = np.asarray(values, dtype=np.int64)
            if new.size:
                old = out.get(int(route_type), np.zeros(0, dtype=np.int64))
                out[int(route_type)] = np.concatenate([old, new])[-max_per_type:]
        return DelayModel(samples=out, default_mean_s=self.default_mean_s,
                          min_samples=self.min_samples)

    def basis(self, route_type: int) -> str:
        return BASIS_LEARNT if self.learnt(route_type) is not None else BASIS_DEFAULT

    def summary(self) -> dict:
        """route_type -> samples, median delay (s) and whether they are used, for reports."""
        return {int(k): {"samples": int(v.size),
                         "median_delay_s": float(np.median(v)) if v.size else None,
                         "used": bool(v.size >= self.min_samples)}
                for k, v in sorted(self._sorted.items())}


DEFAULT_DELAY_MODEL = DelayModel()


def _normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def transfer_probability(slack_s: float, *, route_type: int, model: DelayModel = DEFAULT_DELAY_MODEL,
                         realtime: bool = False, known_delay_s: float = 0.0,
                         uncertainty_s: float | None = None) -> tuple[float, str]:
    """(p, basis): the probability that a transfer with ``slack_s`` holds (module docstring), and
    which rule gave it (``realtime_uncertainty``, ``realtime_delay``, ``learnt_delays``,
    ``default_delays``)."""
    if realtime and uncertainty_s is not None:
        if uncertainty_s <= 0:
            return (1.0 if slack_s >= 0 else 0.0), BASIS_UNCERTAINTY
        return _normal_cdf(slack_s / float(uncertainty_s)), BASIS_UNCERTAINTY
    if realtime:
        below = model.cdf_below(route_type, known_delay_s)
        if below >= 1.0:   # never seen a delay this long: no evidence either way, use the default
            p = DEFAULT_DELAY_MODEL.cdf(route_type, slack_s)
        else:
            p = (model.cdf(route_type, known_delay_s + slack_s) - below) / (1.0 - below)
        return min(max(p, 0.0), 1.0), BASIS_REALTIME
    return model.cdf(route_type, slack_s), model.basis(route_type)


@dataclass(frozen=True)
class TransferReliability:
    """One transfer of an itinerary: between transit legs ``from_leg`` and ``to_leg`` (indices
    into the itinerary's legs), at ``stop_id`` (where the incoming vehicle is left)."""

    from_leg: int
    to_leg: int
    stop_id: str | None
    slack_s: int
    p: float
    basis: str

    def as_dict(self) -> dict:
        return {"from_leg": self.from_leg, "to_leg": self.to_leg, "stop_id": self.stop_id,
                "slack_s": self.slack_s, "p": round(self.p, 4), "basis": self.basis}


def reliability_label(transfers: Sequence[TransferReliability], robust_p: float = ROBUST_P) -> str:
    """``robust`` when every transfer holds with p >= ``robust_p`` (or there is none), else
    ``tight connection: 70 %`` (the least likely transfer, in whole percent)."""
    worst = min((t.p for t in transfers), default=1.0)
    if worst >= robust_p:
        return "robust"
    return f"tight connection: {int(math.floor(worst * 100 + 0.5))} %"


__all__ = ["DEFAULT_DELAY_MODEL", "DEFAULT_MEAN_DELAY_S", "MIN_SAMPLES", "ROBUST_P", "DelayModel",
           "TransferReliability", "reliability_label", "transfer_probability"]
