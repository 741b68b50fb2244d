"""``--realtime FILE_OR_URL`` for ``trajet plan`` and ``trajet info``: GTFS-Realtime feeds (trip
updates, alerts, vehicle positions; repeatable) read, checked against the bundle and turned
into the planner's real-time state, with a report of each feed. A feed that cannot be read is
reported and left out; the others still apply. A file given explicitly is never stale."""
from __future__ import annotations

import datetime as dt

import click

realtime_option = click.option(
    "--realtime", "realtime_sources", multiple=True, metavar="FILE_OR_URL",
    help="A GTFS-Realtime feed (.pb or its JSON mapping, file or http(s) URL): trip updates, "
         "alerts or vehicle positions. Repeat for several feeds.")


def load_realtime(network, sources, *, max_age_s: float | None = None):
    """(RealtimeState or None, report dict) of the feeds at ``sources`` on ``network``."""
    from loaders.gtfs_rt import RealtimeFeedError, read_feed
    from loaders.realtime_adapter import known_ids
    from loaders.realtime_state import state_from_feeds

    if not sources or network.timetable is None:
        return None, {}
    known = known_ids(network.timetable)
    feeds, report = [], {"feeds": []}
    for source in sources:
        try:
            feed = read_feed(source, known=known)
        except RealtimeFeedError as exc:
            report["feeds"].append({"source": str(source), "error": str(exc)})
            continue
        feeds.append(feed)
        report["feeds"].append({
            "source": str(source), "timestamp_utc_s": feed.timestamp_utc_s,
            "entities": {"trip_updates": len(feed.trip_updates), "alerts": len(feed.alerts),
                         "vehicles": len(feed.vehicles)}, **feed.report.as_dict()})
    if not feeds:
        return None, report
    state, state_report = state_from_feeds(network.timetable, feeds, max_age_s=max_age_s)
    report["applied"] = state_report.as_dict()
    return state, report


def print_report(report: dict) -> None:
    """The feeds' report, for people."""
    for f in report.get("feeds", []):
        if "error" in f:
            click.echo(f"real-time {f['source']}: NOT READ: {f['error']}")
            continue
        ts = f["timestamp_utc_s"]
        when = dt.datetime.fromtimestamp(ts, dt.UTC).isoformat() if ts else "no timestamp"
        e = f["entities"]
        click.echo(f"real-time {f['source']} ({when}): {e['trip_updates']} trip updates, "
                   f"{e['alerts']} alerts, {e['vehicles']} vehicles")
        for code, r in f["rejected"].items():
            click.echo(f"  rejected {r['count']:>5}  {code} {r['meaning']} (e.g. {', '.join(r['examples'])})")
    applied = report.get("applied")
    if applied:
        o = applied["overlay"]
        click.echo(f"  applied: {o['applied']} trips with real-time times, {o['cancelled']} cancelled, "
                   f"{o['skipped_stops']} skipped stops, {o['closed_stops']} closed stops; "
                   f"{applied['alerts']} alerts, {applied['vehicles']} vehicles")
        for reason, n in {**o["unmatched"], **o["ignored"]}.items():
            click.echo(f"  not applied {n:>5}  {reason}")
        for source in applied["resolve"]["stale_feeds"]:
            click.echo(f"  STALE (ignored): {source}")


def leg_lines(leg, hhmm, lang: str | None) -> list[str]:
    """Lines under a transit leg: delay with the scheduled time, alerts, the vehicle."""
    rt = leg.realtime
    if rt is None:
        return []
    out = []
    if rt.realtime:
        minutes = max(1, int(abs(rt.delay_s) / 60 + 0.5))
        state = "on time" if abs(rt.delay_s) < 30 else (
            f"{minutes} min late" if rt.delay_s > 0 else f"{minutes} min early")
        out.append(f"real time: {state} (scheduled {hhmm(rt.scheduled_start_s)}-"
                   f"{hhmm(rt.scheduled_end_s)})")
    for a in rt.alerts:
        d = a.as_dict(lang)
        out.append(f"ALERT {d['effect']}: {(d['header_text'] or '').strip()}"
                   + (f" <{d['url']}>" if d["url"] else ""))
    if rt.vehicle_stops_away is not None:
        n = rt.vehicle_stops_away
        out.append(f"vehicle {n} stop{'s' if n != 1 else ''} away")
    return out


def itinerary_lines(it, hhmm) -> list[str]:
    """Lines under an itinerary: reliability and cancelled trips."""
    out = []
    if it.reliability:
        ps = ", ".join(f"{t.stop_id}: {t.p:.0%} ({t.slack_s} s slack)" for t in it.transfer_reliability)
        out.append(f"reliability: {it.reliability}" + (f" [{ps}]" if ps else ""))
    for c in it.cancelled:
        out.append("notice: " + c.message(hhmm(c.scheduled_departure_s)))
    return out
