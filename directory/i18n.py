"""Interface language: bokmål by default, nynorsk and English on request, no cookie.

The choice travels in the URL as ?lang=nn or ?lang=en (bokmål needs no parameter): every
url_for() adds it (directory.web), and the switch in base.html links to the current page in
each language. Nothing is stored on the visitor's side.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Flask, current_app, g, request
from flask.globals import _cv_app
from flask.templating import Environment as FlaskEnvironment
from flask_babel import get_locale, get_translations
from jinja2 import nodes, pass_context
from jinja2.runtime import Context
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

LANGUAGE_NAMES = {"nb": "Bokmål", "nn": "Nynorsk", "en": "English"}
DEFAULT_LANGUAGE = "nb"


def select_locale() -> str:
    """The language from ?lang=, else bokmål. No cookie is set: links carry the choice."""
    wanted = request.args.get("lang", "") if request else ""
    if wanted in current_app.config["LANGUAGES"] and wanted != DEFAULT_LANGUAGE:
        g.lang = wanted
        return wanted
    g.lang = None
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def choose_language() -> None:
    """Settle the request's language before the view runs.

    Flask-Babel selects the locale lazily, at the first translated text; a view that builds a
    URL (a redirect, the login redirect of @login_required) before translating anything would
    otherwise lose ?lang= from that URL.
    """
    get_locale()


def current_language() -> str:
    """The language code of this request: nb, nn or en (for <html lang>)."""
    locale = get_locale()
    language = locale.language if locale else DEFAULT_LANGUAGE
    return language if language in LANGUAGE_NAMES else DEFAULT_LANGUAGE


@dataclass(frozen=True)
class LanguageLink:
    """One entry of the language switch: the current page in another language."""

    code: str
    name: str
    url: str
    active: bool


def language_links() -> list[LanguageLink]:
    """The current page (path and every other query parameter) in each interface language."""
    current = current_language()
    others = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    links = []
    for code, name in LANGUAGE_NAMES.items():
        params = others if code == DEFAULT_LANGUAGE else [*others, ("lang", code)]
        query = urlencode(params)
        url = request.script_root + request.path + (f"?{query}" if query else "")
        links.append(LanguageLink(code=code, name=name, url=url, active=code == current))
    return links


def request_translations():
    """The translations of the current locale, looked up once per request and locale.

    Flask-Babel's own template callables look them up again on every call (four context
    lookups each), and a page of cards translates some 200 strings. They are kept in `g` next
    to the locale they are for, so force_locale (mail, exports) and refresh() still switch them:
    both replace the locale object Flask-Babel keeps in its namespace on `g`, which is read
    here without going through get_locale() (the page's ~100 texts, each a few microseconds).
    """
    context = _cv_app.get(None)
    if context is None:  # outside an application context: Flask-Babel's null translations
        return get_translations()
    found = context.g.__dict__
    kept = found.get("_request_translations")
    if kept is not None and kept[0] is getattr(found.get("_flask_babel"), "babel_locale", None):
        return kept[1]
    locale = get_locale()
    translations = get_translations()
    found["_request_translations"] = (locale, translations)
    return translations


def gettext(string: str, **variables) -> str:
    """Flask-Babel's gettext (the same result) through request_translations(): the code's own
    texts, a few dozen on a search page, without four context lookups each."""
    text = request_translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """Flask-Babel's ngettext (the same result) through request_translations()."""
    variables.setdefault("num", num)
    return request_translations().ungettext(singular, plural, num) % variables


@pass_context
def _template_gettext(context: Context, string: str, **variables) -> str:
    # Jinja's newstyle gettext (jinja2.ext._make_new_gettext) without its two context.call()s
    # per text: the same result, always formatted with the variables, escaped when autoescaping.
    text = request_translations().ugettext(string)
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - a translation of a template's own text
    return text % variables


@pass_context
def _template_ngettext(context: Context, singular: str, plural: str, num: int, **variables):
    variables.setdefault("num", num)
    text = request_translations().ungettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - a translation of a template's own text
    return text % variables


class _ConstantTexts(NodeTransformer):
    """Puts a template's constant texts in one language at compile time.

    `_("Søk")`, `gettext("…")` and `ngettext("%(num)d år", "%(num)d år", 1)` with literal
    arguments become the translated literal (marked safe when the template autoescapes, as
    _template_gettext does), so Jinja writes it into the compiled template's static output; a
    text with variables keeps only its formatting (`"… %(text)s" % {"text": …}`, which escapes the
    values as before). Anything else (a variable text, a count known only at run time) is left
    to the runtime callables.
    """

    def __init__(self, translations) -> None:
        self.translations = translations

    def visit_Call(self, node: nodes.Call) -> nodes.Node:  # noqa: N802 - NodeTransformer's name
        node = self.generic_visit(node)
        if not isinstance(node.node, nodes.Name) or node.dyn_args or node.dyn_kwargs:
            return node
        args = node.args
        if not all(isinstance(a, nodes.Const) for a in args):
            return node
        values = [a.value for a in args]
        name = node.node.name
        if name in ("_", "gettext") and len(values) == 1 and isinstance(values[0], str):
            text = self.translations.ugettext(values[0])
            variables: list[nodes.Pair] = []
        elif (
            name == "ngettext"
            and len(values) == 3
            and all(isinstance(v, str) for v in values[:2])
            and type(values[2]) is int
        ):
            text = self.translations.ungettext(*values)
            variables = [nodes.Pair(nodes.Const("num"), nodes.Const(values[2]))]
        else:
            return node
        variables += [nodes.Pair(nodes.Const(k.key), k.value) for k in node.kwargs]
        if all(isinstance(p.value, nodes.Const) for p in variables):
            try:
                folded = text % {p.key.value: p.value.value for p in variables}
            except (KeyError, TypeError, ValueError):
                return node  # left to fail (or not) at run time, as before
            return nodes.MarkSafeIfAutoescape(nodes.Const(folded), lineno=node.lineno)
        return nodes.Mod(
            nodes.MarkSafeIfAutoescape(nodes.Const(text)), nodes.Dict(variables), lineno=node.lineno
        )


class TranslatingEnvironment(FlaskEnvironment):
    """Flask's template environment, with each template compiled once per interface language.

    A page holds some hundred constant texts; looked up on every request they cost a tenth of
    the page. Each language has an overlay of this environment (its own template cache, the
    same loader, globals and filters) whose templates carry that language's constant texts
    as literals (_ConstantTexts). A template is loaded from the overlay of the language the
    request (or force_locale) has at that moment; includes, imports and `extends` in it are
    loaded by the same overlay. Outside an application context the environment loads as usual.
    """

    language: str | None = None
    languages: dict[str, TranslatingEnvironment]

    def _load_template(self, name, globals):  # noqa: A002 - Jinja's own signature
        if self.language is not None or _cv_app.get(None) is None:
            return super()._load_template(name, globals)
        return self.in_language(str(get_locale()))._load_template(name, globals)

    def in_language(self, language: str) -> TranslatingEnvironment:
        """The overlay that compiles this environment's templates in `language`."""
        languages = self.__dict__.setdefault("languages", {})
        overlay = languages.get(language)
        if overlay is None:
            overlay = self.overlay(cache_size=getattr(self.cache, "capacity", 400))
            overlay.language = language
            overlay.translations = request_translations()
            languages[language] = overlay
        return overlay

    def _parse(self, source, name, filename):
        tree = super()._parse(source, name, filename)
        if self.language is None:
            return tree
        return _ConstantTexts(self.translations).visit(tree)


def init_app(app: Flask) -> None:
    """Settle the language at the start of each request and expose the switch to templates;
    the templates translate through request_translations()."""
    app.before_request(choose_language)
    app.jinja_env.globals.update(current_language=current_language, language_links=language_links)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
    )
    # The texts' own callables, and `_` as gettext itself rather than an alias that looks it
    # up on every call (the templates translate some 100 texts per page).
    app.jinja_env.globals.update(
        _=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext
    )
