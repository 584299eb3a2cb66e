"""The interface in nynorsk and English.

The msgids are the bokmål text in the code and templates. Here the text is extracted afresh, the
way `make messages` does it, and every message must have a real translation in both catalogs,
with the same placeholders; the catalogs must compile; and pages must really switch language.
"""

from __future__ import annotations

import re
from datetime import datetime
from io import BytesIO
from pathlib import Path

import pytest
from babel.dates import format_datetime
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "directory" / "translations"
LANGUAGES = ("nn", "en")
SKIPPED_DIRS = {"node_modules", "instance"}

# %(name)s, %(n)d, %s, %d ... and str.format's {name}.
NAMED = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
POSITIONAL = re.compile(r"%[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
BRACED = re.compile(r"\{(\w*)\}")


def _keywords() -> dict:
    """Babel's default keywords and the Makefile's extra ones (one list, in the Makefile)."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^BABEL_KEYWORDS :=(.*)$", makefile, re.M)
    assert match, "the Makefile has no BABEL_KEYWORDS line"
    words = match.group(1).split()
    assert words[::2] == ["-k"] * (len(words) // 2), words
    return {**DEFAULT_KEYWORDS, **parse_keywords(words[1::2])}


def _wanted(path: str) -> bool:
    name = Path(path).name
    return not name.startswith((".", "_")) and name not in SKIPPED_DIRS


@pytest.fixture(scope="module")
def template() -> Catalog:
    """The messages in the code and templates now, as `make messages` extracts them."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, "babel.cfg")
    catalog = Catalog(fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT,
        method_map,
        options_map,
        keywords=_keywords(),
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
        directory_filter=_wanted,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


@pytest.fixture(scope="module", params=LANGUAGES)
def translated(request) -> tuple[str, Catalog]:
    """A committed catalog, read as the compiler reads it."""
    path = CATALOGS / request.param / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run `make messages`"
    with path.open("rb") as fh:
        return request.param, read_po(fh, locale=request.param)


def _messages(catalog: Catalog):
    return [message for message in catalog if message.id]


def _where(message) -> str:
    return ", ".join(f"{file}:{line}" for file, line in message.locations) or "?"


def _forms(value) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


def _placeholders(text: str) -> tuple[frozenset[str], int, frozenset[str]]:
    """Named %-placeholders, the number of positional ones, and {braced} names."""
    rest = text.replace("%%", "")
    named = frozenset(NAMED.findall(rest))
    rest = NAMED.sub("", rest)
    return named, len(POSITIONAL.findall(rest)), frozenset(BRACED.findall(text))


def _show(placeholders: tuple[frozenset[str], int, frozenset[str]]) -> str:
    named, positional, braced = placeholders
    return f"%({sorted(named)}), {positional} positional, {{{sorted(braced)}}}"


def _stray_percent(text: str) -> bool:
    rest = POSITIONAL.sub("", NAMED.sub("", text.replace("%%", "")))
    return "%" in rest


# --- the catalogs against the code -----------------------------------------------------------


def test_the_extraction_finds_the_interface_text(template):
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in _messages(template)}
    # One from a template, a form, the error pages, a policy reason (N_), a plural.
    for msgid in (
        "Logg inn",
        "Skriv inn e-postadressen din.",
        "Siden eller objektet finnes ikke.",
        "Avsenderen er ikke skolen selv.",
        "%(num)d aktivitet",
    ):
        assert msgid in ids
    files = {Path(file).parts[0] for m in _messages(template) for file, _line in m.locations}
    assert files == {"directory", "templates"}


def test_every_message_has_a_translation(template, translated):
    """A new or changed msgid without a translation fails here, with where it is used."""
    lang, catalog = translated
    problems = []
    for message in _messages(template):
        entry = catalog.get(message.id, context=message.context)
        if entry is None:
            problems.append(f"{_where(message)}: {message.id!r} is not in the catalog")
        elif entry.fuzzy:
            problems.append(f"{_where(message)}: {message.id!r} is fuzzy: check it, drop the flag")
        elif not all(_forms(entry.string)) or (
            message.pluralizable and len(_forms(entry.string)) != catalog.num_plurals
        ):
            problems.append(f"{_where(message)}: {message.id!r} has an empty translation")
    assert not problems, (
        f"{len(problems)} messages untranslated in {lang} (run `make messages`, translate them "
        f"in directory/translations/{lang}/LC_MESSAGES/messages.po, then `make translations`):\n"
        + "\n".join(problems)
    )


def test_translations_keep_the_placeholders(template, translated):
    lang, catalog = translated
    problems = []
    for message in _messages(template):
        entry = catalog.get(message.id, context=message.context)
        if entry is None or not all(_forms(entry.string)):
            continue  # reported by the test above
        sources = _forms(message.id)
        for index, form in enumerate(_forms(entry.string)):
            # Plural forms follow msgid_plural, the first may follow the singular msgid.
            source = sources[min(index, len(sources) - 1)]
            expected = {_placeholders(source)} | (
                {_placeholders(sources[0])} if index == 0 else set()
            )
            found = _placeholders(form)
            if found not in expected:
                problems.append(
                    f"{_where(message)}: {lang} {form!r} has placeholders {_show(found)}, "
                    f"the msgid {source!r} has {_show(_placeholders(source))}"
                )
            if _stray_percent(form) and not _stray_percent(source):
                # Templates format every translation with %, so a lone % breaks the page.
                problems.append(f"{_where(message)}: {lang} {form!r} has a lone %; write %%")
    assert not problems, "\n".join(problems)


def test_plural_forms_are_declared(translated):
    lang, catalog = translated
    assert catalog.plural_forms == "nplurals=2; plural=(n != 1);"
    assert catalog.locale is not None and catalog.locale.language == lang


def test_date_patterns_are_valid_patterns(template, translated):
    """Date patterns are translated as text; each must still be a CLDR pattern."""
    lang, catalog = translated
    moment = datetime(2026, 3, 3, 17, 30)  # a Tuesday in March
    patterns = [m for m in _messages(template) if "CLDR date pattern" in " ".join(m.auto_comments)]
    assert len(patterns) >= 3
    day = {"nn": "tysdag", "en": "Tuesday"}[lang]
    month = {"nn": "mars", "en": "March"}[lang]
    for message in patterns:
        pattern = catalog.get(message.id).string
        text = format_datetime(moment, pattern, locale=lang)
        assert month in text, (pattern, text)
        if "EEEE" in message.id:
            assert day in text and "17:30" in text, (pattern, text)


def test_the_catalogs_compile_and_load(translated):
    lang, catalog = translated
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    loaded = Translations(buffer)
    expected = {
        "nn": ("Logg inn", "Aktivitetar for born og unge", "1 aktivitet", "3 aktivitetar"),
        "en": ("Log in", "Activities for children and young people", "1 activity", "3 activities"),
    }[lang]
    assert loaded.gettext("Logg inn") == expected[0]
    assert loaded.gettext("Aktiviteter for barn og unge") == expected[1]
    one, many = (
        loaded.ngettext("%(num)d aktivitet", "%(num)d aktiviteter", n) % {"num": n} for n in (1, 3)
    )
    assert (one, many) == expected[2:]


def test_the_makefile_compiles_and_updates_the_catalogs():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^install: .*\btranslations\b", makefile, re.M)
    assert re.search(r"^test: install", makefile, re.M) and re.search(
        r"^run: install", makefile, re.M
    )
    assert "pybabel -q compile -d directory/translations" in makefile
    assert re.search(r"^messages:", makefile, re.M)
    assert "pybabel update" in makefile


# --- the pages in each language --------------------------------------------------------------


def page(client, path: str) -> str:
    response = client.get(path)
    return response.get_data(as_text=True)


BOKMAL_SEARCH = ("Aktiviteter for barn og unge", "Hopp til innholdet", "Vis treff")


@pytest.mark.parametrize(
    ("lang", "present"),
    [
        (None, BOKMAL_SEARCH),
        ("nn", ("Aktivitetar for born og unge", "Hopp til innhaldet", "Alle aldrar", "Vis treff")),
        ("en", ("Activities for children and young people", "Skip to content", "Show results")),
    ],
)
def test_the_search_page_in_each_language(client, make_activity, lang, present):
    make_activity(title="Fotballtrening")
    html = page(client, "/" if lang is None else f"/?lang={lang}")
    for text in present:
        assert text in html, (lang, text)
    if lang is not None:
        for text in BOKMAL_SEARCH[:2]:
            assert text not in html, (lang, text)
        assert "Aktivitetar" not in page(client, "/")


def test_result_counts_use_plural_forms(client, make_activity):
    make_activity(title="Korøvelse")
    counts = {}
    for lang in ("nn", "en"):
        html = page(client, f"/activities?lang={lang}")
        counts[lang, 1] = re.search(r'class="result-count"[^>]*>([^<]+)<', html).group(1)
    make_activity(title="Fotballtrening")
    for lang in ("nn", "en"):
        html = page(client, f"/activities?lang={lang}")
        counts[lang, 2] = re.search(r'class="result-count"[^>]*>([^<]+)<', html).group(1)
    assert counts == {
        ("nn", 1): "1 aktivitet",
        ("en", 1): "1 activity",
        ("nn", 2): "2 aktivitetar",
        ("en", 2): "2 activities",
    }


def test_the_activity_page_in_english(client, make_activity, make_category):
    category = make_category(name_nb="Musikk", name_nn="Musikk", name_en="Music")
    activity = make_activity(title="Barnekor", price_nok=1200, category=category)
    html = page(client, f"/activities/{activity.id}?lang=en")
    for text in (
        "Add to calendar",
        "Organiser:",
        "NOK\u00a01,200",
        "Music",
        "Every Tuesday, 17:00",
    ):
        assert text in html, text
    # The next times: an English weekday and month, no Norwegian "kl.".
    times = re.findall(r'<time datetime="[^"]+">([^<]+)</time>', html)
    assert times and all(t.startswith("Tuesday ") and " at 17:00" in t for t in times), times
    for text in ("Legg i kalender", "Arrangør:", "1\u00a0200\u00a0kr", "tirsdag", "Hver ", " kl. "):
        assert text not in html, text


def test_the_activity_page_in_nynorsk(client, make_activity, make_category):
    category = make_category(name_nb="Idrett", name_nn="Idrett og rørsle", name_en="Sports")
    activity = make_activity(title="Barnekor", price_nok=1200, category=category)
    html = page(client, f"/activities/{activity.id}?lang=nn")
    for text in ("Kvar tysdag kl. 17:00–18:30, frå", "Dei neste gongene", "Idrett og rørsle"):
        assert text in html, text
    assert "tysdag " in html and "1\u00a0200\u00a0kr" in html
    for text in ("Hver tirsdag", "De neste gangene", "tirsdag"):
        assert text not in html, text


@pytest.mark.parametrize(
    ("lang", "present", "absent"),
    [
        ("nn", ("Frivillig lag/foreining", "Aktivitetar"), ("Frivillig lag/forening",)),
        ("en", ("Voluntary club or association", "Activities"), ("Frivillig lag/forening",)),
    ],
)
def test_the_organisation_pages(client, make_activity, lang, present, absent):
    activity = make_activity()
    for path in ("/organisations", f"/organisations/{activity.organisation.slug}"):
        html = page(client, f"{path}?lang={lang}")
        for text in present:
            assert text in html, (path, text)
        for text in absent:
            assert text not in html, (path, text)


@pytest.mark.parametrize(
    ("lang", "present", "absent"),
    [
        ("nn", "Foreldre treng ingen konto.", "Foreldre trenger ingen konto."),
        ("en", "Parents do not need an account.", "Foreldre trenger ingen konto."),
    ],
)
def test_the_login_page(client, lang, present, absent):
    html = page(client, f"/login?lang={lang}")
    assert present in html and absent not in html
    if lang == "en":
        assert '<button type="submit">Log in</button>' in html and "Logg inn" not in html


@pytest.mark.parametrize(
    ("lang", "errors"),
    [
        (None, ("Skriv inn e-postadressen din.", "Skjemaet har feil.")),
        ("nn", ("Skriv inn e-postadressa di.", "Skjemaet har feil. Sjå merknadene")),
        ("en", ("Enter your email address.", "The form has errors.")),
    ],
)
def test_form_errors_follow_the_language(client, lang, errors):
    response = client.post("/login" + (f"?lang={lang}" if lang else ""), data={})
    html = response.get_data(as_text=True)
    assert response.status_code == 401  # the login form answers every refusal with 401
    for text in errors:
        assert text in html, text
    if lang:
        assert "Skriv inn e-postadressen din." not in html


@pytest.mark.parametrize(
    ("lang", "message"), [("nn", "Du er logga ut."), ("en", "You have logged out.")]
)
def test_flash_messages_follow_the_language(client, login_as, make_user, lang, message):
    login_as(make_user())
    response = client.post(f"/logout?lang={lang}", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert message in html and "Du er logget ut." not in html


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        (None, "Siden eller objektet finnes ikke."),
        ("nn", "Sida eller objektet finst ikkje."),
        ("en", "The page or object does not exist."),
    ],
)
def test_the_not_found_page(client, lang, message):
    response = client.get("/finnes-ikke" + (f"?lang={lang}" if lang else ""))
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert message in html
    if lang:
        assert "Siden eller objektet finnes ikke." not in html


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        (None, "Alderen må være et helt tall fra 0 til 25."),
        ("nn", "Alderen må vere eit heilt tal frå 0 til 25."),
        ("en", "The age must be a whole number from 0 to 25."),
    ],
)
def test_api_errors_follow_the_language(client, lang, message):
    response = client.get("/api/v1/activities?age=abc" + (f"&lang={lang}" if lang else ""))
    assert response.status_code == 400
    assert response.get_json()["error"] == message
