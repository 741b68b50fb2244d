"""Parking: where a driver (or a cyclist) can leave the vehicle, and whether there will be room.

The car-park occupancy forecaster: a profile per facility fitted from the occupancy history,
blended with live observations through a Kalman filter of the deviations from it (the model is
described in :mod:`engine.parking.forecasting`). One module per idea:

* ``local_time``   local dates, wall-clock seconds and day types of UTC instants
* ``readings``     which occupancy readings can be trusted (impossible counts, stuck sensors)
* ``profile``      reading a fitted profile: its values at instants, the level scale
* ``fit``          fitting the profile, full thresholds and deviation correlation from a history
* ``deviation``    the deviation from the profile: its correlation, the Kalman filter
* ``live``         the live feed's state (:class:`LiveObservations`)
* ``search_time``  expected search or queue time at a facility (:class:`SearchTimeModel`)
* ``forecasting``  availability at an instant (:func:`forecast`)
* ``kernels``      the numba kernels behind profile, deviation and forecasting
* ``choice``       which facility to drive to: the expected door-to-door cost rule
* ``pending``      drivers already sent to a facility: their cars taken off the forecast, the
                   spreading of drivers by room, the compliance estimator

Everything here is numpy, scipy and numba; local time comes from :mod:`zoneinfo`; public holidays
are given by the caller as local dates (``loaders.calendar_days.public_holidays``).
"""
from engine.parking.deviation import NO_OBSERVATION, DeviationState, deviation_correlation, deviation_states
from engine.parking.fit import DEFAULT_BIN_S, MIN_FULL_EVENTS, fit_occupancy_profile
from engine.parking.forecasting import (
    PROFILE_PRIOR_N,
    STALE_AFTER_S,
    UNKNOWN_P_FREE,
    ForecastBasis,
    ParkingForecast,
    forecast,
    forecast_from_observations,
)
from engine.parking.live import LiveObservations
from engine.parking.local_time import day_types, local_day_and_second
from engine.parking.pending import PendingArrivals, estimate_compliance
from engine.parking.profile import LEVEL_OFFSET_SHARE, level_offsets, observed_p_free, profile_values
from engine.parking.readings import STUCK_AFTER_S, unchanged_since, usable_readings
from engine.parking.search_time import SearchTimeModel

__all__ = [
    "DEFAULT_BIN_S", "LEVEL_OFFSET_SHARE", "MIN_FULL_EVENTS", "NO_OBSERVATION", "PROFILE_PRIOR_N",
    "STALE_AFTER_S", "STUCK_AFTER_S", "UNKNOWN_P_FREE",
    "DeviationState", "ForecastBasis", "LiveObservations", "ParkingForecast", "PendingArrivals",
    "SearchTimeModel", "estimate_compliance",
    "day_types", "deviation_correlation", "deviation_states", "fit_occupancy_profile", "forecast",
    "forecast_from_observations", "level_offsets", "local_day_and_second", "observed_p_free",
    "profile_values", "unchanged_since", "usable_readings",
]
