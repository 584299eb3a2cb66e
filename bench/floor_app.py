"""The framework floor: the least a Flask + Flask-SQLAlchemy + Jinja page listing 20 rows costs.

bench/floor.py serves it under gunicorn next to the directory and measures both. It is a page
of the same kind as ours with nothing of ours in it: a base template and a page template, 20 of
N rows read through the ORM from an SQLite database in WAL mode, no search, no translations, no
extensions beyond Flask-SQLAlchemy. Kept apart from bench/floor.py so that its gunicorn workers
import Flask, Flask-SQLAlchemy and Jinja only.

    FLOOR_DATABASE_URL=sqlite:////tmp/floor.sqlite3 gunicorn 'floor_app:create_floor_app()'
"""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta

from flask import Flask, render_template
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader
from sqlalchemy import DateTime, Integer, String, Text, event, insert, select
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()

BASE_HTML = """\
<!doctype html>
<html lang="nb">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{% block title %}{% endblock %} – Aktiviteter</title>
  <link rel="stylesheet" href="/static/site.css">
</head>
<body>
  <header><a href="/">Aktiviteter</a>
    <nav><a href="/">Finn aktiviteter</a> <a href="/om">Om</a> <a href="/logg-inn">Logg inn</a></nav>
  </header>
  <main>{% block main %}{% endblock %}</main>
  <footer><p>Et eksempel på en side, {{ year }}.</p></footer>
</body>
</html>
"""

PAGE_HTML = """\
{% extends "base.html" %}
{% block title %}Aktiviteter{% endblock %}
{% block main %}
<h1>Aktiviteter</h1>
<ol class="cards">
{% for item in items %}
  <li class="card">
    <h2><a href="/items/{{ item.id }}">{{ item.title }}</a></h2>
    <p>{{ item.summary }}</p>
    <p>{{ item.starts_at.strftime("%d.%m.%Y kl. %H:%M") }} · {{ item.venue }}</p>
    <p>{{ item.age_min }}–{{ item.age_max }} år ·
      {% if item.price_nok %}{{ item.price_nok }} kr{% else %}Gratis{% endif %}</p>
  </li>
{% endfor %}
</ol>
{% endblock %}
"""


class Item(db.Model):
    """One listed row, with about the fields a card shows."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    venue: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    age_min: Mapped[int] = mapped_column(Integer)
    age_max: Mapped[int] = mapped_column(Integer)
    price_nok: Mapped[int] = mapped_column(Integer)


def _sqlite_wal(dbapi_connection, _record) -> None:
    """WAL and a busy timeout, as directory.extensions sets them for SQLite."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_floor_app() -> Flask:
    """The floor's application: / lists the 20 soonest of the rows; /healthz answers ok."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["FLOOR_DATABASE_URL"]
    app.jinja_loader = DictLoader({"base.html": BASE_HTML, "page.html": PAGE_HTML})
    db.init_app(app)
    with app.app_context():
        event.listen(db.engine, "connect", _sqlite_wal)

    @app.get("/")
    def index():
        items = db.session.scalars(select(Item).order_by(Item.starts_at, Item.id).limit(20))
        return render_template("page.html", items=list(items), year=datetime.now().year)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app


def seed_floor(count: int, seed: int = 7) -> None:
    """Create the table and insert `count` rows (in an app context of create_floor_app())."""
    rng = random.Random(seed)
    db.create_all()
    start = datetime.now().replace(minute=0, second=0, microsecond=0)
    rows = [
        {
            "id": n,
            "title": f"Aktivitet nummer {n}",
            "summary": "For barn og unge, alle er velkommen uansett nivå",
            "description": "Vi møtes hver uke. " * rng.randint(5, 20),
            "venue": f"Skole {rng.randint(1, 40)}",
            "starts_at": start + timedelta(hours=rng.randint(-500, 2000)),
            "age_min": (age := rng.randint(3, 14)),
            "age_max": min(age + rng.randint(1, 6), 19),
            "price_nok": rng.choice((0, 0, 100, 250, 450)),
        }
        for n in range(1, count + 1)
    ]
    for first in range(0, count, 5000):
        db.session.execute(insert(Item), rows[first : first + 5000])
    db.session.commit()
