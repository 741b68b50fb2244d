"""What a RAPTOR kernel reads, prepared once per timetable: the timetable's arrays per search
direction (forward, or reversed in time for arrive-by), and the per-query filters derived from
options (footpaths at a walk speed, same-stop transfer slack, modes, wheelchair access), bundled
per query as :class:`KernelInputs`."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from engine.model import Timetable
from engine.transit.options import DEFAULT_WALK_SPEED_MPS, route_mode


@dataclass(frozen=True)
class _Direction:
    """The arrays one search direction's kernel reads (forward, or the reversed timetable)."""

    route_stop_offsets: np.ndarray
    route_stops: np.ndarray
    route_can_board: np.ndarray
    route_can_alight: np.ndarray
    route_trip_offsets: np.ndarray
    stop_time_offsets: np.ndarray
    arrival_s: np.ndarray
    departure_s: np.ndarray
    trip_route_idx: np.ndarray
    stop_route_offsets: np.ndarray
    stop_route_idx: np.ndarray
    stop_route_pos: np.ndarray
    fp_offsets: np.ndarray          # footpaths at the reference walk speed, forbidden pairs removed
    fp_to: np.ndarray
    fp_time_s: np.ndarray
    trip_order: np.ndarray | None   # direction's trip_idx -> timetable trip_idx (None: identity)

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in dataclasses.asdict(self).values() if isinstance(v, np.ndarray))


def _reverse_blocks(offsets: np.ndarray, n: int) -> np.ndarray:
    """Index permutation reversing each CSR block ``offsets[i]:offsets[i+1]`` of an n-array."""
    offsets = np.asarray(offsets, dtype=np.int64)
    sizes = np.diff(offsets)
    block_of = np.repeat(np.arange(sizes.shape[0]), sizes)
    i = np.arange(n, dtype=np.int64)
    return offsets[block_of] + offsets[block_of + 1] - 1 - i


def _csr_by(from_idx: np.ndarray, n: int, *values: np.ndarray):
    order = np.lexsort((np.asarray(values[0]), from_idx)) if values else np.argsort(from_idx, kind="stable")
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(from_idx, minlength=n), out=offsets[1:])
    return (offsets, *[np.ascontiguousarray(v[order]) for v in values])


def _footpath_lists(tt: Timetable) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(from, to, time) of usable footpaths between different stops, and the self-loop time per
    stop (-1 when none): transfers.txt transfer_type 3 pairs removed."""
    n = tt.n_stops
    src = np.repeat(np.arange(n, dtype=np.int32), np.diff(tt.transfer_offsets).astype(np.int64))
    dst = np.asarray(tt.transfer_to_stop, dtype=np.int32)
    time_s = np.asarray(tt.transfer_time_s, dtype=np.int32)
    keep = src != dst
    self_time = np.full(n, -1, dtype=np.int32)
    loops = ~keep
    if loops.any():
        self_time[src[loops]] = time_s[loops]
    forb_from = np.asarray(tt.forbidden_from_stop, dtype=np.int64)
    forb_to = np.asarray(tt.forbidden_to_stop, dtype=np.int64)
    if forb_from.size:
        key = src.astype(np.int64) * n + dst
        keep &= ~np.isin(key, forb_from * n + forb_to)
    return src[keep], dst[keep], time_s[keep], self_time


def _forward(tt: Timetable) -> _Direction:
    src, dst, time_s, _ = _footpath_lists(tt)
    offsets, fp_to, fp_time = _csr_by(src, tt.n_stops, dst, time_s)
    return _Direction(
        route_stop_offsets=np.ascontiguousarray(tt.route_stop_offsets, dtype=np.int64),
        route_stops=np.ascontiguousarray(tt.route_stops, dtype=np.int32),
        route_can_board=np.ascontiguousarray(tt.route_stop_can_board, dtype=np.bool_),
        route_can_alight=np.ascontiguousarray(tt.route_stop_can_alight, dtype=np.bool_),
        route_trip_offsets=np.ascontiguousarray(tt.route_trip_offsets, dtype=np.int64),
        stop_time_offsets=np.ascontiguousarray(tt.stop_time_offsets, dtype=np.int64),
        arrival_s=np.ascontiguousarray(tt.arrival_s, dtype=np.int32),
        departure_s=np.ascontiguousarray(tt.departure_s, dtype=np.int32),
        trip_route_idx=np.ascontiguousarray(tt.trip_route_idx, dtype=np.int32),
        stop_route_offsets=np.ascontiguousarray(tt.stop_route_offsets, dtype=np.int64),
        stop_route_idx=np.ascontiguousarray(tt.stop_route_idx, dtype=np.int32),
        stop_route_pos=np.ascontiguousarray(tt.stop_route_pos, dtype=np.int32),
        fp_offsets=offsets.astype(np.int64), fp_to=fp_to.astype(np.int32),
        fp_time_s=fp_time.astype(np.int32), trip_order=None)


def _reversed(tt: Timetable, fwd: _Direction) -> _Direction:
    """The timetable seen backwards in time: stops of each route reversed, trips reversed,
    times negated (arrival' = -departure, departure' = -arrival), board/alight swapped,
    footpaths transposed. FIFO routes stay FIFO, so the same kernel applies."""
    st_perm = _reverse_blocks(fwd.stop_time_offsets, fwd.arrival_s.shape[0])
    rs_perm = _reverse_blocks(fwd.route_stop_offsets, fwd.route_stops.shape[0])
    trip_perm = _reverse_blocks(fwd.route_trip_offsets, fwd.trip_route_idx.shape[0])
    n_pos = np.diff(fwd.route_stop_offsets)
    src, dst, time_s, _ = _footpath_lists(tt)
    offsets, fp_to, fp_time = _csr_by(dst, tt.n_stops, src, time_s)
    return _Direction(
        route_stop_offsets=fwd.route_stop_offsets,
        route_stops=np.ascontiguousarray(fwd.route_stops[rs_perm]),
        route_can_board=np.ascontiguousarray(fwd.route_can_alight[rs_perm]),
        route_can_alight=np.ascontiguousarray(fwd.route_can_board[rs_perm]),
        route_trip_offsets=fwd.route_trip_offsets,
        stop_time_offsets=fwd.stop_time_offsets,
        arrival_s=np.ascontiguousarray(-fwd.departure_s[st_perm]),
        departure_s=np.ascontiguousarray(-fwd.arrival_s[st_perm]),
        trip_route_idx=fwd.trip_route_idx,
        stop_route_offsets=fwd.stop_route_offsets,
        stop_route_idx=fwd.stop_route_idx,
        stop_route_pos=(n_pos[fwd.stop_route_idx] - 1 - fwd.stop_route_pos).astype(np.int32),
        fp_offsets=offsets.astype(np.int64), fp_to=fp_to.astype(np.int32),
        fp_time_s=fp_time.astype(np.int32), trip_order=trip_perm.astype(np.int32))


@dataclass(frozen=True)
class KernelInputs:
    """Everything a RAPTOR kernel reads for one service day and set of options, prepared and
    cached by :meth:`TransitRouter.kernel_inputs`.

    ``direction`` holds the timetable arrays of the search direction (forward, or reversed for
    arrive-by: times negated). Footpaths are at the options' walk speed; ``stop_slack_s`` is the
    same-stop transfer time per stop (-1: forbidden); ``trip_active`` has bit 1 for trips running
    on the day and bit 2 for those of the day before; ``route_ok``/``stop_ok`` filter modes and
    wheelchair access. ``previous_day_shift_s`` is what a previous-day trip's times lose in the
    day's frame (see :func:`previous_day_shift_s`); ``day_shift_s`` is that shift as the kernels
    take it (negated on the reversed timetable).
    """

    direction: _Direction
    fp_offsets: np.ndarray
    fp_to: np.ndarray
    fp_time_s: np.ndarray
    stop_slack_s: np.ndarray
    trip_active: np.ndarray
    route_ok: np.ndarray
    stop_ok: np.ndarray
    previous_day_shift_s: int
    day_shift_s: int



# ---------------------------------------------------------------------------------------------
# Per-query filters (the router caches each by its key)
# ---------------------------------------------------------------------------------------------
def scaled_footpaths(d: _Direction, walk_speed_mps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offsets, to_stop, seconds) of a direction's footpaths at ``walk_speed_mps`` (they are
    stored at :data:`DEFAULT_WALK_SPEED_MPS`)."""
    if walk_speed_mps == DEFAULT_WALK_SPEED_MPS:
        return d.fp_offsets, d.fp_to, d.fp_time_s
    # whole seconds, rounded up (the epsilon keeps 203 * (1.3 / 1.3) at 203)
    ratio = DEFAULT_WALK_SPEED_MPS / walk_speed_mps
    return d.fp_offsets, d.fp_to, np.ceil(d.fp_time_s * ratio - 1e-9).astype(np.int32)


def routes_allowed(tt: Timetable, modes: frozenset | None) -> np.ndarray:
    """route_idx -> bool: the route's line has one of ``modes`` (:func:`route_mode` names); every
    route for None."""
    if modes is None:
        return np.ones(tt.n_routes, dtype=np.bool_)
    line_modes = np.array([route_mode(t) for t in tt.line_type], dtype=object)
    line_ok = np.array([m in modes for m in line_modes], dtype=np.bool_)
    return np.ascontiguousarray(line_ok[np.asarray(tt.route_line_idx)]) if line_ok.size \
        else np.zeros(tt.n_routes, dtype=np.bool_)


def stops_allowed(tt: Timetable, wheelchair: bool) -> np.ndarray:
    """stop_idx -> bool: every stop, or with ``wheelchair`` those marked accessible (GTFS 1)."""
    ok = (np.asarray(tt.stop_wheelchair) == 1) if wheelchair else np.ones(tt.n_stops, dtype=bool)
    return np.ascontiguousarray(ok, dtype=np.bool_)


def stop_slack(tt: Timetable, default_slack_s: int) -> np.ndarray:
    """stop_idx -> same-stop transfer time (s, int32): the stop's minimum transfer time, else its
    transfers.txt footpath to itself, else ``default_slack_s``; -1 where a transfer_type 3 pair
    of the stop with itself forbids changing there."""
    _, _, _, self_loop_s = _footpath_lists(tt)
    forbidden_here = np.zeros(tt.n_stops, dtype=bool)
    ff = np.asarray(tt.forbidden_from_stop)
    same = ff[ff == np.asarray(tt.forbidden_to_stop)]
    forbidden_here[same] = True
    own = np.asarray(tt.stop_min_transfer_s, dtype=np.int32)
    slack = np.where(own >= 0, own, np.where(self_loop_s >= 0, self_loop_s, default_slack_s))
    return np.where(forbidden_here, -1, slack).astype(np.int32)
