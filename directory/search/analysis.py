"""Norwegian text analysis for the search index: words, stems, compounds and folded spellings.

Norwegian writes compounds as one word ("fotballtrening", "svømmekurs", "barnekoret"), so a
parent searching "trening", "kurs" or "kor" would miss them with stemming alone. At index time a
token that starts with a known activity word (the "heads" below) also yields that word and the
rest, dropping a linking s/e ("barn-e-koret"), recursively; a token that ends in a common tail
("sommerleir", "linedans") also yields the tail. Queries are not split: the index holds the parts.

Stemming is Snowball's Norwegian ("no"; bokmål and nynorsk both map to it) with a few curated
overrides where Snowball splits an activity word from its own forms ("kurs" -> "kur" but
"kurset" -> "kurs"; "dans" -> "dan"), and compound-aware: a compound of known parts is stemmed
as its first part plus the stem of the rest, so "svømmekurset" and "svømmekurs" agree.

Three analyzers are used, built by the functions at the bottom:
- index_analyzer(): words -> lowercase -> decompound -> stop words -> stems (title, body)
- index_analyzer(folded=True): the same after folding æ->ae, ø->o, å->a and removing accents,
  so that "svommekurs" finds "Svømmekurs"
- spelling_analyzer(): unstemmed lowercase words and compound parts, for "did you mean".
A search's own words go through stem() and fold() one by one (the Whoosh backend's parse_text).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer
from whoosh.lang import stemmer_for_language, stopwords_for_language

WORD_PATTERN = r"\w+"

# Activity words a compound may start with. Longer heads are tried first.
HEADS = frozenset(
    """
    fotball håndball basket basketball volleyball innebandy bandy hockey ishockey svømme svøm
    dans danse kor korps skole klubb trening kurs turn ski sykkel sykle sjakk musikk gitar piano
    fiolin tromme trommer kunst tegne male teater drama speider leir ferie natur friluft
    friluftsliv tur kode koding data spill lekse lese matte matematikk språk barn ungdom ungdoms
    jente gutt familie baby mini junior senior idrett friidrett bryting judo karate taekwondo
    klatre klatring golf tennis bordtennis badminton orientering skøyte skate sang synge band
    lego robot film foto keramikk strikke bake mat sommer vinter høst påske helg kveld
    """.split()
)

# Words that only end compounds; with the heads they make a split believable.
TAIL_WORDS = frozenset(
    """
    lag gruppe øvelse verksted kveld dag uke camp festival konsert forestilling time økt lek
    leker hjelp sirkel bane hall løype skyting hopp løp aktivitet tilbud kafe treff skolen
    """.split()
)

# Tails recognised at the end of any long enough word ("sommerleir" -> "leir").
SUFFIX_TAILS = frozenset(
    """
    kurs leir skole klubb trening gruppe verksted camp fotball håndball teater musikk korps
    sjakk speider svømming dans
    """.split()
)

# Endings that are inflections, not words: never emitted as a compound part.
INFLECTIONS = frozenset(
    "a e en et er ene ane ar ing ingen ingene ist ister ere erne ers ner nere nerne s".split()
)
TAIL_INFLECTIONS = ("", "e", "en", "et", "er", "ene", "a", "ane", "ar", "s", "ing")
LINKS = ("s", "e")
MIN_PART = 3  # letters in a compound part
MIN_UNKNOWN_REST = 4  # letters in a rest that is not itself a known word
MIN_FREE_HEAD = 5  # heads this long may be followed by an unknown rest
MIN_SUFFIX_PREFIX = 4  # letters before a suffix tail

# Stems for forms Snowball handles inconsistently (s-endings, -ing forms).
_OVERRIDE_GROUPS = {
    "kurs": "kurs kurset kursene kursa kursets",
    "dans": "dans dansen danse dansing dansingen dansene danser",
    "korps": "korps korpset korpsene korpsa",
    # Snowball makes "kors" (Røde Kors) "kor", the stem of a choir: a choir is not a cross.
    "kors": "kors korset korsene korsa korsets",
    "svømm": "svøm svømme svømming svømmingen",
    "turn": "turn turning turnen",
    "sykkel": "sykkel sykle sykling syklene sykler syklingen",
    "tegn": "tegne tegning tegninger tegningen",
    "mal": "male maling",
    "kod": "kode koding kodingen",
    "les": "lese lesing lesingen",
    "spill": "spill spille spilling spillet",
    "klatr": "klatre klatring klatringen",
    "bak": "bake baking bakingen",
    "strikk": "strikke strikking strikkingen",
    "gitar": "gitar gitaren gitarer gitarene",
    "teater": "teater teatret teateret teatre teatrene",
    "sang": "sang sangen sanger synge synging",
}
STEM_OVERRIDES = {word: stem for stem, words in _OVERRIDE_GROUPS.items() for word in words.split()}

_FOLD_MAP = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "AE", "Ø": "O", "Å": "A"})


def fold(text: str) -> str:
    """The text with æ/ø/å spelled ae/o/a and accents removed: "Svømmekurs" -> "Svommekurs"."""
    text = text.translate(_FOLD_MAP)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class _Lexicon:
    """The word lists in one spelling (as written, or folded)."""

    def __init__(self, folded: bool):
        convert = fold if folded else (lambda word: word)
        self.folded = folded
        self.heads = sorted({convert(w) for w in HEADS}, key=len, reverse=True)
        self.known = frozenset(convert(w) for w in HEADS | TAIL_WORDS)
        self.known_by_length = sorted(self.known, key=len, reverse=True)
        self.suffix_tails = sorted({convert(w) for w in SUFFIX_TAILS}, key=len, reverse=True)
        self.overrides = {convert(k): convert(v) for k, v in STEM_OVERRIDES.items()}
        self.stopwords = frozenset(convert(w) for w in stopwords_for_language("no"))
        self._snowball = stemmer_for_language("no")
        # Per-instance caches: the folded and unfolded lexicons stem differently.
        self.split = lru_cache(maxsize=200_000)(self._split)
        self.stem = lru_cache(maxsize=200_000)(self._stem)

    def starts_with_known(self, text: str) -> bool:
        """Whether the text begins with a known activity or tail word."""
        return any(text.startswith(word) for word in self.known_by_length)

    def _split(self, word: str) -> tuple[str, tuple[str, ...], bool] | None:
        """(prefix, parts, believable) for a compound, or None.

        prefix is the word up to where the first emitted part begins (for head splits the head
        with its linking letter). believable is False when the rest is an unknown word, which is
        indexed but not used for compound-aware stemming.
        """
        if word in self.known:  # "matematikk" is a word, not "mat" + "ematikk"
            return None
        for head in self.heads:
            if len(word) - len(head) < MIN_PART or not word.startswith(head):
                continue
            rest = word[len(head) :]
            if self.starts_with_known(rest):
                return head, (head, rest), True
            if rest[0] in LINKS and self.starts_with_known(rest[1:]):
                return head + rest[0], (head, rest[1:]), True
            if len(head) >= MIN_FREE_HEAD and len(rest) >= MIN_UNKNOWN_REST:
                if rest in INFLECTIONS:
                    continue
                parts = [head, rest]
                if rest[0] in LINKS and len(rest) - 1 >= MIN_UNKNOWN_REST:
                    parts.append(rest[1:])
                return head, tuple(parts), False
        for tail in self.suffix_tails:
            for ending in TAIL_INFLECTIONS:
                full = tail + ending
                cut = len(word) - len(full)
                if cut >= MIN_SUFFIX_PREFIX and word.endswith(full):
                    return word[:cut], (full,), True
        return None

    def parts(self, word: str) -> list[str]:
        """Every compound part of the word, recursively (not the word itself)."""
        found: list[str] = []
        split = self.split(word)
        if split is None:
            return found
        for part in split[1]:
            if part not in found:
                found.append(part)
            if part != split[1][0]:  # the rest may be a compound itself
                found.extend(p for p in self.parts(part) if p not in found)
        return found

    def _stem(self, word: str) -> str:
        if word in self.overrides:
            return self.overrides[word]
        split = self.split(word)
        if split is not None and split[2]:
            prefix, parts, _believable = split
            rest = parts[-1] if len(parts) == 1 else parts[1]
            return prefix + self.stem(rest)
        return self._snowball(word)


LEXICON = _Lexicon(folded=False)
FOLDED_LEXICON = _Lexicon(folded=True)


def _lexicon(folded: bool) -> _Lexicon:
    return FOLDED_LEXICON if folded else LEXICON


def stem(word: str, *, folded: bool = False) -> str:
    """The search stem of one lowercase word (compound-aware, with the curated overrides)."""
    return _lexicon(folded).stem(fold(word) if folded else word)


def compound_parts(word: str, *, folded: bool = False) -> list[str]:
    """The parts a compound is indexed under: "fotballtrening" -> ["fotball", "trening"]."""
    return _lexicon(folded).parts(word)


def is_stopword(word: str, *, folded: bool = False) -> bool:
    """Whether the lowercase word is a Norwegian stop word."""
    return word in _lexicon(folded).stopwords


class FoldFilter(Filter):
    """Folds æ/ø/å and accents (after lowercasing)."""

    def __call__(self, tokens):
        for t in tokens:
            t.text = fold(t.text)
            yield t


class DecompoundFilter(Filter):
    """Index time only: after each compound token, also yields its parts at the same position."""

    def __init__(self, folded: bool = False):
        self.folded = folded

    def __call__(self, tokens):
        lexicon = _lexicon(self.folded)
        for t in tokens:
            # Later filters change t.text in place before we resume, so keep the word first.
            word = t.text
            yield t
            if len(word) < 2 * MIN_PART:
                continue
            for part in lexicon.parts(word):
                t.text = part
                yield t


class NorwegianStemFilter(Filter):
    """Drops stop words and stems the rest, compound-aware."""

    def __init__(self, folded: bool = False, stem: bool = True):
        self.folded = folded
        self.stem = stem

    def __call__(self, tokens):
        lexicon = _lexicon(self.folded)
        for t in tokens:
            if t.text in lexicon.stopwords or len(t.text) < 1:
                continue
            if self.stem:
                t.text = lexicon.stem(t.text)
            yield t


def index_analyzer(*, folded: bool = False):
    """Words -> lowercase [-> fold] -> compound parts -> stop words -> stems."""
    chain = RegexTokenizer(WORD_PATTERN) | LowercaseFilter()
    if folded:
        chain = chain | FoldFilter()
    return chain | DecompoundFilter(folded) | NorwegianStemFilter(folded)


def spelling_analyzer():
    """Unstemmed lowercase words and their compound parts, for spelling suggestions."""
    return (
        RegexTokenizer(WORD_PATTERN)
        | LowercaseFilter()
        | DecompoundFilter(False)
        | NorwegianStemFilter(False, stem=False)
    )


def analyse(text: str, analyzer) -> list[str]:
    """The token texts an analyzer produces for a text."""
    return [t.text for t in analyzer(text)]
