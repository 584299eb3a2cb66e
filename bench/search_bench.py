"""Search benchmark: build an index of N synthetic Norwegian-like activities, then time queries.

    .venv/bin/python bench/search_bench.py 10000 100000 [--queries 300] [--seed 7]

For each N it reports the index build time, the index size on disk, and the latency (median and
95th percentile) of plain, filtered (text + category + age) and prefix queries through the
Whoosh backend's query() with its searcher kept open, as a parent's search would run in a
worker. No database is needed: documents are generated directly.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from directory.search.base import ActivityDocument  # noqa: E402
from directory.search.query import SearchQuery  # noqa: E402
from directory.search.whoosh_backend import WhooshBackend  # noqa: E402

HEADS = (
    "fotball håndball basket volleyball innebandy hockey svømme dans danse kor korps sjakk "
    "musikk gitar piano kunst teater speider klatre ski sykkel koding lego friluft turn"
).split()
TAILS = "trening kurs gruppe klubb skole leir lag verksted kveld camp økt".split()
PREFIXES = "barne ungdoms jente gutte familie mini junior senior".split()
WORDS = (
    "vi er en gjeng som møtes hver uke for å ha det gøy sammen alle er velkommen uansett "
    "nivå trenerne våre har lang erfaring med barn og unge ta med drikkeflaske og gode sko "
    "påmelding skjer på nettsiden vår treningene foregår i hallen på skolen ved regn flytter "
    "vi inn lek mestring vennskap glede bevegelse samhold nybegynnere viderekomne foreldre "
    "dugnad kiosk kamp turnering cup sesong høst vår vinter sommer ferie helg kveld dag "
    "utstyr låne gratis rimelig kontingent medlem lisens forsikring politiattest frivillig "
    "instruktør leder hjelper kurset avsluttes med oppvisning konsert forestilling utstilling "
    "bydel nærmiljø idrettsplass svømmehall kulturhus bibliotek ungdomshus gymsal skog fjell"
).split()
PLACES = "Bragernes Strømsø Konnerud Åssiden Fjell Gulskogen Tangen Danvik Austad Skoger".split()
CATEGORIES = (
    "idrett musikk kunst friluftsliv dans teater sjakk data natur svomming ski leksehjelp"
).split()
QUERY_WORDS = "fotball svømmekurs trening kor dans sjakk klatring gitar leir teater".split()
PREFIX_QUERIES = "fotb* svøm* dan* kla* trening* mus* sk* le*".split()


def offer_row(rng: random.Random, n: int, organisations: int) -> dict:
    """The descriptive columns of synthetic activity `n` (id, organisation, category, texts,
    ages, price, place), drawn from `rng` in a fixed order: the HTTP and scale benchmarks add
    their own flags, dates and points to it."""
    head, tail = rng.choice(HEADS), rng.choice(TAILS)
    title = f"{rng.choice(PREFIXES)}{head}" if rng.random() < 0.3 else head
    age_min = rng.randint(3, 14)
    return {
        "id": n,
        "organisation_id": rng.randint(1, organisations),
        "category_id": rng.randint(1, len(CATEGORIES)),
        "title": f"{title.capitalize()}{tail} på {rng.choice(PLACES)}",
        "summary": f"{head.capitalize()} for barn og unge i {rng.choice(PLACES)}",
        "description": " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 90))),
        "tags": f"{head}, {tail}",
        "age_min": age_min,
        "age_max": min(age_min + rng.randint(1, 6), 19),
        "price_nok": 0 if rng.random() < 0.4 else rng.choice((100, 250, 450, 900)),
        "venue": f"{rng.choice(PLACES)} skole",
        "address": f"Skoleveien {rng.randint(1, 80)}, 30{rng.randint(10, 48)} Drammen",
    }


def synthetic_documents(count: int, seed: int, now: datetime):
    """Yield `count` documents with Norwegian-like compound titles and prose descriptions."""
    rng = random.Random(seed)
    for n in range(1, count + 1):
        head, tail = rng.choice(HEADS), rng.choice(TAILS)
        title = f"{rng.choice(PREFIXES)}{head}" if rng.random() < 0.3 else head
        title = f"{title}{tail} på {rng.choice(PLACES)}".capitalize()
        description = " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 90)))
        age_min = rng.randint(3, 14)
        weekday = rng.randint(1, 7)
        hour = rng.choice((10, 13, 15, 16, 17, 18, 19))
        first = (now + timedelta(days=rng.randint(0, 30))).replace(hour=hour, minute=0)
        weekly = rng.random() < 0.8
        starts = [first + timedelta(weeks=w) for w in range(30 if weekly else 1)]
        pairs = tuple((s, s + timedelta(minutes=90)) for s in starts)
        times = ("weekend",) if weekday >= 6 else ("evening",) if hour >= 18 else ()
        if weekday < 6 and 13 <= hour < 18:
            times = ("after_school",)
        yield ActivityDocument(
            id=n,
            stamp=f"1.1.{n}",
            title=title,
            summary=f"{head.capitalize()} for barn og unge i {rng.choice(PLACES)}",
            description=description,
            tags=f"{head} {tail}",
            organisation_name=f"{rng.choice(PLACES)} {rng.choice(('IL', 'musikklag', 'klubb'))}",
            organisation_slug=f"org-{n % 400}",
            organisation_kind="volunteer",
            verified=rng.random() < 0.9,
            municipality="drammen",
            category=rng.choice(CATEGORIES),
            age_min=age_min,
            age_max=min(age_min + rng.randint(1, 6), 19),
            weekdays=(weekday,),
            times=times,
            free=rng.random() < 0.4,
            accessible=rng.random() < 0.2,
            status="published",
            dates=tuple(sorted({s.date().isoformat() for s in starts})),
            next_start=pairs[0][0],
            last_end=pairs[-1][1],
            published_at=now - timedelta(days=rng.randint(0, 200)),
            upcoming=pairs[:16],
        )


def directory_size(path: Path) -> int:
    """Bytes of all files under a directory."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of the values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def time_queries(backend: WhooshBackend, queries: list[SearchQuery], now: datetime) -> list[float]:
    """Milliseconds per query, after a warm-up, with the backend's searcher kept open."""
    for query in queries[:20]:  # warm up: open the searcher, fill the filter caches
        backend.query(query, now=now)
    timings = []
    for query in queries:
        started = time.perf_counter()
        backend.query(query, now=now)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


COLD_QUERIES = 50


def time_cold(path: Path, queries: list[SearchQuery], now: datetime) -> list[float]:
    """Each query on a freshly opened searcher (as right after another worker's write): only
    the searcher's opening and its columns are paid before the clock starts."""
    timings = []
    for query in queries:
        backend = WhooshBackend(path)
        backend.query(SearchQuery(), now=now)
        started = time.perf_counter()
        backend.query(query, now=now)
        timings.append((time.perf_counter() - started) * 1000)
        backend.close()
    return timings


def run(count: int, n_queries: int, seed: int) -> dict:
    """Build an index of `count` documents in a temporary directory and time the queries."""
    now = datetime.now(UTC)
    workdir = Path(tempfile.mkdtemp(prefix="search-bench-"))
    try:
        backend = WhooshBackend(workdir / "index")
        started = time.perf_counter()
        backend.rebuild(synthetic_documents(count, seed, now))
        build = time.perf_counter() - started
        size = directory_size(workdir / "index")

        rng = random.Random(seed + 1)
        plain = [SearchQuery(text=rng.choice(QUERY_WORDS)) for _ in range(n_queries)]
        filtered = [
            SearchQuery(
                text=rng.choice(QUERY_WORDS),
                categories=(rng.choice(CATEGORIES),),
                age=rng.randint(6, 14),
            )
            for _ in range(n_queries)
        ]
        prefix = [SearchQuery(text=rng.choice(PREFIX_QUERIES)) for _ in range(n_queries)]
        browse = [
            SearchQuery(sort="soonest", age=rng.randint(6, 14), page=rng.randint(1, 3))
            for _ in range(n_queries)
        ]
        results = {"count": count, "build_s": build, "size_mb": size / 1e6}
        for name, queries in (
            ("plain", plain),
            ("filtered", filtered),
            ("prefix", prefix),
            ("browse", browse),
        ):
            timings = time_queries(backend, queries, now)
            results[name] = (statistics.median(timings), percentile(timings, 0.95))
        backend.close()
        timings = time_cold(workdir / "index", filtered[:COLD_QUERIES], now)
        results["cold"] = (statistics.median(timings), percentile(timings, 0.95))
        return results
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark for each N given and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("counts", nargs="*", type=int, default=[10_000])
    parser.add_argument("--queries", type=int, default=300, help="queries per kind")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    rows = [run(count, args.queries, args.seed) for count in args.counts]
    header = (
        f"{'activities':>10} | {'build':>8} | {'size':>8} | {'plain med/p95':>15} | "
        f"{'filtered med/p95':>17} | {'prefix med/p95':>15} | {'browse med/p95':>15} | "
        f"{'filtered cold med/p95':>22}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        cells = [
            f"{r['count']:>10,}",
            f"{r['build_s']:>6.1f} s",
            f"{r['size_mb']:>5.1f} MB",
        ]
        cells += [
            f"{r[k][0]:>6.1f} / {r[k][1]:>5.1f} ms".rjust(w)
            for k, w in (
                ("plain", 15),
                ("filtered", 17),
                ("prefix", 15),
                ("browse", 15),
                ("cold", 22),
            )
        ]
        print(" | ".join(cells))
    print(
        "Latencies in ms, in-process through WhooshBackend.query(), first page of 20 with facet "
        "counts, searcher kept open (cold: first use of the terms on a fresh searcher). "
        "plain = one word; filtered = word + category + age; prefix = e.g. fotb*; "
        "browse = age filter, soonest first, no text."
    )


if __name__ == "__main__":
    main()
