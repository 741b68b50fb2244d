"""Public and school holidays as days since 1970-01-01 (the holidays package is offline data)."""
import datetime as dt

import numpy as np
import pytest

from loaders.calendar_days import public_holidays, school_holidays


def day(iso: str) -> int:
    return (dt.date.fromisoformat(iso) - dt.date(1970, 1, 1)).days


def test_french_public_holidays_of_2026_are_the_eleven_days_of_the_labour_code():
    days = public_holidays("FR", range(2026, 2027))
    assert days.dtype == np.int64 and days.size == 11 and (np.diff(days) > 0).all()
    assert {day("2026-01-01"), day("2026-05-01"), day("2026-07-14"), day("2026-08-15"),
            day("2026-12-25")} <= set(days.tolist())


def test_monaco_keeps_its_own_saint_devote_holiday():
    assert day("2026-01-27") in public_holidays("MC", [2026])
    assert day("2026-01-27") not in public_holidays("FR", [2026])


def test_montpellier_school_holidays_are_zone_c():
    days = set(school_holidays("FR", [2026], "Zone C").tolist())
    assert day("2026-07-15") in days and day("2026-03-02") in days     # summer; winter break
    assert day("2026-06-15") not in days


def test_unknown_country_or_subdivision_is_a_clear_error():
    with pytest.raises(ValueError, match="country='XX'"):
        public_holidays("XX", [2026])
    with pytest.raises(ValueError, match="subdiv='Zone Q'"):
        school_holidays("FR", [2026], "Zone Q")
