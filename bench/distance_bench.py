"""Distance benchmark: the cost of "near a school" (issue 13) at 10,000 activities.

    .venv/bin/python bench/distance_bench.py [--activities 10000] [--runs 200] [--database-runs 20]

Builds a temporary SQLite database and Whoosh index (through the app factory, in a temporary
folder removed at the end) with one school in Drammen and N public weekly activities at random points up to
about 15 km around it (one in ten without coordinates), then times three searches through the
search service, as a page or the API runs them (the page of activities loaded, facets counted):

    soonest      sort=soonest                       (the plain order, for comparison)
    distance     near=<school>, sort=distance       (every match measured and ordered)
    within 5 km  near=<school>, within_km=5         (a distance filter, then the distance order)

Runs are interleaved (one of each in turn, after a warm-up) so that drift affects all alike.
Prints the median and 95th percentile in milliseconds for the Whoosh backend and the database
backend (which expands every schedule in Python, hence fewer runs by default).
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCHOOL = (59.7439, 10.2045)  # Bragernes, Drammen
RADIUS_KM = 15.0
NO_POINT_SHARE = 0.1
HEADS = ("Fotball", "Kor", "Kodeklubb", "Sjakk", "Turn", "Korps", "Friluftsliv", "Håndball",
         "Skøyteskole", "Tegning", "Robotverksted", "Svømming", "Leksehjelp", "Speider")  # fmt: skip


def random_point(rng: random.Random) -> tuple[Decimal, Decimal] | tuple[None, None]:
    """A point uniformly within RADIUS_KM of the school (six decimals, as stored), or none."""
    if rng.random() < NO_POINT_SHARE:
        return None, None
    distance = RADIUS_KM * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    lat = SCHOOL[0] + distance * math.cos(bearing) / 111.2
    lon = SCHOOL[1] + distance * math.sin(bearing) / (111.2 * math.cos(math.radians(SCHOOL[0])))
    return Decimal(f"{lat:.6f}"), Decimal(f"{lon:.6f}")


def seed(count: int, rng: random.Random) -> None:
    """One municipality, a school with coordinates, 50 organisations, `count` activities."""
    from directory.activities.models import Activity, Schedule
    from directory.extensions import db
    from directory.organisations.models import Organisation
    from directory.schools.models import Municipality, School
    from directory.timeutil import oslo_now

    municipality = Municipality(slug="drammen", name="Drammen", messaging_label="Vigilo")
    db.session.add(
        School(municipality=municipality, slug="bragernes", name="Bragernes skole", grade_min=1,
               grade_max=7, latitude=SCHOOL[0], longitude=SCHOOL[1])
    )  # fmt: skip
    organisations = [
        Organisation(municipality=municipality, slug=f"lag-{n}", name=f"Lag {n}",
                     kind="volunteer", verification="verified")
        for n in range(50)
    ]  # fmt: skip
    db.session.add_all(organisations)
    today = oslo_now().replace(tzinfo=None, minute=0, second=0, microsecond=0)
    for n in range(count):
        lat, lon = random_point(rng)
        age_min = rng.randint(3, 15)
        activity = Activity(
            organisation=rng.choice(organisations),
            title=f"{rng.choice(HEADS)} {n}",
            summary="For barn og unge",
            description="Bli med!",
            age_min=age_min,
            age_max=age_min + rng.randint(1, 4),
            price_nok=rng.choice((0, 0, 200, 450)),
            venue=f"Sted {n}" if lat is not None else "",
            latitude=lat,
            longitude=lon,
            status="published",
        )
        start = today + timedelta(days=rng.randint(1, 14), hours=rng.randint(0, 6))
        activity.schedules.append(
            Schedule(dtstart=start.replace(hour=rng.choice((15, 16, 17, 18))),
                     duration_minutes=90, rrule="FREQ=WEEKLY;COUNT=20")
        )  # fmt: skip
        db.session.add(activity)
        if n % 1000 == 999:
            db.session.flush()
    db.session.commit()


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of the values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def time_searches(app, kind: str, runs: int) -> dict[str, list[float]]:
    """Milliseconds per search for each case, interleaved, after a warm-up of each."""
    from directory.extensions import db
    from directory.search.query import SearchQuery
    from directory.search.service import search_activities

    app.config["SEARCH_BACKEND"] = kind
    cases = {
        "soonest": SearchQuery(sort="soonest"),
        "distance": SearchQuery(near="bragernes", sort="distance"),
        "within 5 km": SearchQuery(near="bragernes", within_km=5.0, sort="distance"),
    }
    timings: dict[str, list[float]] = {name: [] for name in cases}
    for query in cases.values():
        page = search_activities(query)
        assert not page.degraded, "the index did not answer"
        db.session.expunge_all()
    for run in range(runs):
        names = list(cases)
        names = names[run % 3 :] + names[: run % 3]  # rotate who goes first
        for name in names:
            started = time.perf_counter()
            search_activities(cases[name])
            timings[name].append((time.perf_counter() - started) * 1000)
            db.session.expunge_all()  # as a new request would: nothing kept in the session
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--activities", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200, help="timed runs of each (Whoosh)")
    parser.add_argument("--database-runs", type=int, default=20, help="the same, database")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    from directory import create_app
    from directory.extensions import db
    from directory.search.query import SearchQuery
    from directory.search.service import rebuild_index, search_activities

    workdir = Path(tempfile.mkdtemp(prefix="distance-bench-"))
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.sqlite3'}",
            "UPLOAD_FOLDER": str(workdir / "uploads"),
            "SEARCH_INDEX_DIR": str(workdir / "search-index"),
            "SEARCH_SYNC": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        seed(args.activities, random.Random(args.seed))
        seeded = time.perf_counter() - started
        started = time.perf_counter()
        indexed = rebuild_index()
        print(
            f"{args.activities} activities in {seeded:.1f} s, {indexed} indexed in "
            f"{time.perf_counter() - started:.1f} s (SQLite and Whoosh in {workdir})"
        )
        near = search_activities(SearchQuery(near="bragernes", within_km=5.0, sort="distance"))
        print(f"within 5 km of the school: {near.total} activities")
        print(f"{'backend':9} {'search':12} {'runs':>5} {'median ms':>10} {'p95 ms':>8}")
        for kind, runs in (("whoosh", args.runs), ("database", args.database_runs)):
            for name, values in time_searches(app, kind, runs).items():
                print(
                    f"{kind:9} {name:12} {len(values):5d} {statistics.median(values):10.1f} "
                    f"{percentile(values, 0.95):8.1f}"
                )
        db.engine.dispose()
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
