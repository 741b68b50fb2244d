"""Public and school holidays as local dates, for the occupancy profile's day types.

The engine takes holidays as an array of days since 1970-01-01 (``engine.parking`` counts them
as Sundays); this module gets them from the ``holidays`` package (country codes ISO 3166-1:
"FR" for Montpellier, "MC" for Monaco).
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

_EPOCH = np.datetime64("1970-01-01", "D")


def _days(dates: Iterable) -> np.ndarray:
    out = np.array(sorted(np.datetime64(d, "D") for d in dates), dtype="datetime64[D]")
    return (out - _EPOCH).astype(np.int64)


def _calendar(country: str, years: Iterable[int], subdiv: str | None, categories: tuple[str, ...]):
    import holidays

    years = sorted({int(y) for y in years})
    try:
        return holidays.country_holidays(country, subdiv=subdiv, years=years, categories=categories)
    except (NotImplementedError, ValueError) as exc:  # unknown country, subdivision or category
        raise ValueError(f"holidays (country={country!r}, subdiv={subdiv!r}, "
                         f"categories={list(categories)}): {exc}; countries are ISO 3166-1 alpha-2 "
                         "codes such as 'FR' or 'MC'") from None


def public_holidays(country: str, years: Iterable[int], subdiv: str | None = None) -> np.ndarray:
    """Public holidays of a country (optionally a subdivision) in the given years.

    Returns sorted int64 days since 1970-01-01. Raises ValueError naming the country or
    subdivision when the ``holidays`` package does not know it.
    """
    return _days(_calendar(country, years, subdiv, ("public",)).keys())


def school_holidays(country: str, years: Iterable[int], subdiv: str) -> np.ndarray:
    """School holiday dates (e.g. ``school_holidays("FR", [2026], "Zone C")`` for Montpellier).

    Returns sorted int64 days since 1970-01-01. Raises ValueError when the package has no school
    calendar for that country or subdivision.
    """
    return _days(_calendar(country, years, subdiv, ("school",)).keys())
