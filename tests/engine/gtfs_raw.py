"""The raw GTFS, read with pandas and nothing of trajet's loader, for the transit oracle and the
feasibility checks: trips with their stop times, and which services run on a date."""
from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd


def _seconds(hms: pd.Series) -> np.ndarray:
    parts = hms.str.strip().str.split(":", expand=True).astype(int)
    return (parts[0] * 3600 + parts[1] * 60 + parts[2]).to_numpy()


class RawFeed:
    """stop_times, trips, calendar.txt and calendar_dates.txt of a GTFS zip."""

    def __init__(self, path: str | Path):
        with zipfile.ZipFile(path) as z:
            def read(name):
                if name not in z.namelist():
                    return None
                return pd.read_csv(z.open(name), dtype=str, keep_default_na=False)
            st, trips = read("stop_times.txt"), read("trips.txt")
            self.calendar, self.calendar_dates = read("calendar.txt"), read("calendar_dates.txt")
        st["seq"] = st["stop_sequence"].astype(int)
        st = st.sort_values(["trip_id", "seq"], kind="stable")
        self.trip_ids = st["trip_id"].unique()
        first = np.flatnonzero(np.r_[True, st["trip_id"].to_numpy()[1:] != st["trip_id"].to_numpy()[:-1]])
        self.offsets = np.r_[first, len(st)]
        self.stop_id = st["stop_id"].str.strip().to_numpy()
        self.arr = _seconds(st["arrival_time"])
        self.dep = _seconds(st["departure_time"])
        pick = st["pickup_type"] if "pickup_type" in st else pd.Series([""] * len(st))
        drop = st["drop_off_type"] if "drop_off_type" in st else pd.Series([""] * len(st))
        self.board = (pick.str.strip() != "1").to_numpy()
        self.alight = (drop.str.strip() != "1").to_numpy()
        self.index = {t: i for i, t in enumerate(self.trip_ids)}
        svc = dict(zip(trips["trip_id"], trips["service_id"], strict=True))
        self.trip_service = np.array([svc[t] for t in self.trip_ids])

    def trip(self, trip_id: str) -> slice:
        i = self.index[trip_id]
        return slice(self.offsets[i], self.offsets[i + 1])

    def services_on(self, date: dt.date) -> set[str]:
        """service_ids running on a date: calendar.txt weekdays within its range, then
        calendar_dates.txt (1 adds, 2 removes)."""
        ymd = date.strftime("%Y%m%d")
        out = set()
        if self.calendar is not None:
            day = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                   "sunday")[date.weekday()]
            c = self.calendar
            on = (c[day].str.strip() == "1") & (c["start_date"] <= ymd) & (c["end_date"] >= ymd)
            out |= set(c.loc[on, "service_id"])
        if self.calendar_dates is not None:
            cd = self.calendar_dates[self.calendar_dates["date"].str.strip() == ymd]
            out |= set(cd.loc[cd["exception_type"].str.strip() == "1", "service_id"])
            out -= set(cd.loc[cd["exception_type"].str.strip() == "2", "service_id"])
        return out

    def runs_on(self, date: dt.date) -> np.ndarray:
        """Per trip (in ``trip_ids`` order): whether it runs on the date."""
        return np.isin(self.trip_service, list(self.services_on(date)))

    def exception_dates(self) -> list[dt.date]:
        """Dates of calendar_dates.txt, the most exceptions first."""
        if self.calendar_dates is None:
            return []
        counts = self.calendar_dates["date"].str.strip().value_counts()
        return [dt.datetime.strptime(d, "%Y%m%d").date() for d in counts.index]
