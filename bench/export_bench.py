"""Export benchmark: one school's week with many approved requests in every channel.

    .venv/bin/python bench/export_bench.py [--requests 200] [--repeat 3]

Builds a temporary SQLite database with one school and N activities, each with an approved
request in every channel (school messaging, Facebook share, backpack post) for the same week,
then times the export operation as the download runs it: load the requests, build the file,
mark them exported, write an audit event each, flush (rolled back after each run, so every run
does the whole work). Prints exports per second and requests exported per second for each
channel and format, and the file sizes. With --uploaded, that share of the activities has a
flyer PDF of its own (as the demo makes them), which the backpack post places instead of
making one. Then writes the backpack-post PDF to a temporary folder and renders its first page
(the cover sheet) and the page of its first flyer as PNG with `pdftoppm -png -r 60`, printing
where they are. Nothing is written inside the repository.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE_URL = "https://aktiviteter.example.no"
FORMATS = (
    ("school_messaging", "txt"),
    ("school_messaging", "csv"),
    ("facebook_share", "html"),
    ("backpack_post", "pdf"),
)
HEADS = ("Fotball", "Kor", "Kodeklubb", "Sjakk", "Turn", "Bandøving", "Friluftsliv", "Håndball",
         "Skøyteskole", "Tegning", "Robotverksted", "Svømming", "Leksehjelp", "Ørnespeidere")  # fmt: skip
TAILS = ("for nybegynnere", "på Åssiden", "i Bragernes", "for jenter", "åpen trening",
         "med Drammen IF", "på biblioteket", "for hele familien")  # fmt: skip


def seed(count: int, week: str, rng: random.Random, uploaded: float = 0.0) -> int:
    """One municipality and school, `count` activities with an approved request per channel;
    the first `uploaded` share of them with a flyer PDF in the upload folder."""
    from directory.accounts.operations import create_user
    from directory.activities.models import Activity, Schedule
    from directory.approvals.display import week_monday
    from directory.approvals.models import DistributionRequest
    from directory.extensions import db
    from directory.organisations.models import Organisation
    from directory.schools.models import Municipality, School, SchoolGradeCount, SchoolStaff
    from directory.timeutil import utcnow

    municipality = Municipality(slug="drammen", name="Drammen", messaging_label="Vigilo")
    school = School(
        municipality=municipality,
        slug="bragernes",
        name="Bragernes skole",
        grade_min=1,
        grade_max=7,
        facebook_page_url="https://www.facebook.com/bragernesskole",
    )
    for grade in range(1, 8):
        classes = rng.randint(2, 4)
        school.grade_counts.append(
            SchoolGradeCount(grade=grade, classes=classes, pupils=classes * rng.randint(18, 27))
        )
    staff = create_user("ansatt@example.org", "Ansatt Ansattsen", "riktig-hest-batteri-42")
    db.session.add(SchoolStaff(user=staff, school=school, role="staff"))
    organisations = [
        Organisation(
            municipality=municipality,
            slug=f"lag-{n}",
            name=f"Idrettslaget Ørn {n}",
            kind="volunteer",
            verification="verified",
        )
        for n in range(1, 21)
    ]
    db.session.add_all(organisations)
    monday = datetime.combine(week_monday(week), datetime.min.time())
    reviewed = utcnow() - timedelta(days=1)
    for n in range(count):
        age_min = rng.randint(6, 10)
        activity = Activity(
            organisation=organisations[n % len(organisations)],
            title=f"{rng.choice(HEADS)} {rng.choice(TAILS)} {n + 1}",
            summary="Bli med på en morsom aktivitet med trenere som har god tid til alle. "
            "Ta med drikkeflaske og klær etter været.",
            age_min=age_min,
            age_max=age_min + rng.randint(2, 5),
            price_nok=rng.choice((0, 0, 150, 300, 450)),
            venue="Bragernes idrettshall",
            address="Idrettsveien 1, 3015 Drammen",
            registration_url=f"https://lag.example.no/påmelding/{n + 1}",
            facebook_post_url=f"https://www.facebook.com/lag/posts/{n + 1}",
            flyer_filename=f"{n:032x}.pdf" if n < uploaded * count else None,
            status="published",
        )
        activity.schedules.append(
            Schedule(
                dtstart=monday + timedelta(days=rng.randint(0, 4), hours=rng.randint(16, 19)),
                duration_minutes=rng.choice((60, 90)),
                rrule="FREQ=WEEKLY" if rng.random() < 0.8 else "",
            )
        )
        first = rng.randint(1, 5)
        grades = list(range(first, min(first + rng.randint(1, 3), 7) + 1))
        for channel in ("school_messaging", "facebook_share", "backpack_post"):
            db.session.add(
                DistributionRequest(
                    activity=activity,
                    school=school,
                    week=week,
                    channel=channel,
                    rule="bench",
                    reasons=[],
                    grades=grades,
                    status="approved",
                    reviewed_by=staff,
                    reviewed_at=reviewed,
                )
            )
    db.session.commit()
    if uploaded:
        from flask import current_app
        from sqlalchemy import select

        from directory.demo import make_flyer_pdf

        folder = Path(current_app.config["UPLOAD_FOLDER"])
        folder.mkdir(parents=True, exist_ok=True)
        for activity in db.session.scalars(
            select(Activity).where(Activity.flyer_filename.is_not(None))
        ):
            pdf = make_flyer_pdf(activity, activity.organisation, municipality, rng)
            (folder / activity.flyer_filename).write_bytes(pdf)
    return staff.id


def time_exports(school, week: str, actor, repeat: int) -> dict[tuple[str, str], bytes]:
    """Run each export `repeat` times (rolled back after each) and print the rates."""
    from directory.exports.operations import export_requests
    from directory.extensions import db

    files = {}
    print(f"{'channel':18} {'format':6} {'exports/s':>10} {'requests/s':>11} {'size':>10}")
    for channel, fmt in FORMATS:
        export_requests(school, week, channel, fmt, actor=actor, base_url=BASE_URL)  # warm-up
        db.session.rollback()
        started = time.perf_counter()
        for _ in range(repeat):
            result = export_requests(school, week, channel, fmt, actor=actor, base_url=BASE_URL)
            db.session.rollback()
        elapsed = time.perf_counter() - started
        files[(channel, fmt)] = result.file.content
        size = len(result.file.content)
        print(
            f"{channel:18} {fmt:6} {repeat / elapsed:10.2f} "
            f"{repeat * result.included / elapsed:11.0f} {size / 1024:8.0f} KB"
        )
    return files


def render(pdf: Path, page: int, prefix: Path) -> Path | None:
    """One page of the PDF as a PNG at 60 dpi, or None without pdftoppm."""
    if shutil.which("pdftoppm") is None:
        return None
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page), str(pdf), str(prefix)],
        check=True,
    )
    return next(prefix.parent.glob(f"{prefix.name}-*.png"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="approved requests a channel")
    parser.add_argument("--repeat", type=int, default=3, help="timed exports per format")
    parser.add_argument(
        "--uploaded", type=float, default=0.0, help="share of activities with their own flyer PDF"
    )
    args = parser.parse_args()

    from pypdf import PdfReader
    from sqlalchemy import select

    from directory import create_app
    from directory.accounts.models import User
    from directory.extensions import db
    from directory.schools.models import School
    from directory.schools.routing import iso_week

    workdir = Path(tempfile.mkdtemp(prefix="export-bench-"))
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.sqlite3'}",
            "UPLOAD_FOLDER": str(workdir / "uploads"),
            "SEARCH_INDEX_DIR": str(workdir / "search-index"),
            "SEARCH_SYNC": False,
            "PUBLIC_BASE_URL": BASE_URL,
        }
    )
    week = iso_week()
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        staff_id = seed(args.requests, week, random.Random(48), args.uploaded)
        print(
            f"{args.requests} activities, {3 * args.requests} approved requests for {week} "
            f"in {time.perf_counter() - started:.1f} s (SQLite, {workdir})"
        )
        school = db.session.scalar(select(School).where(School.slug == "bragernes"))
        actor = db.session.get(User, staff_id)
        files = time_exports(school, week, actor, args.repeat)
        db.engine.dispose()

    pdf = workdir / "ranselpost.pdf"
    pdf.write_bytes(files[("backpack_post", "pdf")])
    reader = PdfReader(pdf)
    pages = len(reader.pages)
    first_flyer = next(
        n for n, page in enumerate(reader.pages, start=1) if "Nr. 1 –" in page.extract_text()
    )
    print(
        f"backpack PDF: {pdf} ({pages} pages: {first_flyer - 1} cover, "
        f"{pages - first_flyer + 1} for {args.requests} flyers)"
    )
    for page, name in ((1, "page1"), (first_flyer, "flyer")):
        png = render(pdf, page, workdir / name)
        print(f"page {page} as PNG: {png}" if png else "pdftoppm not found: no PNG")


if __name__ == "__main__":
    main()
