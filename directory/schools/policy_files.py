"""Channel policies as files: export to TOML or JSON, and import with errors a person can act on.

The municipal default is exported with every setting, a school's override with only the settings
the school changed. Exporting, importing and exporting again gives the same bytes.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from datetime import date
from typing import Any

from directory.i18n import gettext
from directory.policy.channel_policy import PolicyError, parse_settings, policy_to_dict
from directory.policy.routing import N_

MAX_FILE_BYTES = 64 * 1024
FORMATS = ("toml", "json")
# Python 3.11's TOMLDecodeError carries the position only in its message.
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


class PolicyFileError(ValueError):
    """A policy file that cannot be imported: where (line/column or field) and why, in bokmål."""

    def __init__(
        self,
        template: str,
        params: Mapping[str, object] | None = None,
        *,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
    ):
        self.template = template
        self.params = dict(params or {})
        self.line = line
        self.column = column
        self.field = field
        self.policy_error: PolicyError | None = None
        super().__init__(template % self.params if self.params else template)

    @property
    def text(self) -> str:
        """The message in the visitor's language."""
        params = dict(self.params)
        if self.policy_error is not None:
            inner = gettext(self.policy_error.template)
            params["message"] = (
                inner % self.policy_error.params if self.policy_error.params else inner
            )
        translated = gettext(self.template)
        return translated % params if params else translated


def _toml_value(value: Any) -> str:
    """One TOML value: only strings, booleans, integers and lists of strings occur."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # A JSON string is a valid TOML basic string once DEL (which TOML forbids raw) is escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def export_toml(settings: Mapping[str, Any], *, title: str, day: date | None = None) -> str:
    """The settings as a TOML file with a comment header naming whose policy it is and when."""
    lines = [
        f"# Kanalretningslinjer: {title}",
        f"# Eksportert {(day or date.today()).isoformat()}",
        "",
    ]
    lines += [f"{key} = {_toml_value(value)}" for key, value in policy_to_dict(settings).items()]
    return "\n".join(lines) + "\n"


def export_json(settings: Mapping[str, Any]) -> str:
    """The settings as a JSON object, in the settings' own order."""
    return json.dumps(policy_to_dict(settings), indent=2, ensure_ascii=False) + "\n"


def export_policy(
    settings: Mapping[str, Any], fmt: str, *, title: str, day: date | None = None
) -> str:
    """The settings as a file of the given format ('toml' or 'json')."""
    if fmt == "json":
        return export_json(settings)
    return export_toml(settings, title=title, day=day)


def detect_format(filename: str | None, text: str) -> str:
    """'json' or 'toml': by the file's extension, else by whether it starts like a JSON object."""
    name = (filename or "").lower()
    for fmt in FORMATS:
        if name.endswith("." + fmt):
            return fmt
    return "json" if text.lstrip().startswith("{") else "toml"


def _decode(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise PolicyFileError(
            N_("Filen er for stor: den kan være høyst %(max)s kB."),
            {"max": MAX_FILE_BYTES // 1024},
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyFileError(
            N_("Filen er ikke UTF-8-tekst (ugyldig byte ved posisjon %(position)s)."),
            {"position": exc.start},
        ) from exc
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise PolicyFileError(N_("Filen er tom."))
    return text


def _load(text: str, fmt: str) -> Any:
    if fmt == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise PolicyFileError(
                N_("Linje %(line)s, kolonne %(column)s: ugyldig JSON (%(detail)s)."),
                {"line": exc.lineno, "column": exc.colno, "detail": exc.msg},
                line=exc.lineno,
                column=exc.colno,
            ) from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        if match is None:  # "at end of document"
            line, column = text.count("\n") + 1, len(text.rsplit("\n", 1)[-1]) + 1
        else:
            line, column = int(match.group(1)), int(match.group(2))
        detail = _TOML_POSITION.sub("", message).strip()
        detail = re.sub(r"\s*\(at end of document\)", "", detail)
        raise PolicyFileError(
            N_("Linje %(line)s, kolonne %(column)s: ugyldig TOML (%(detail)s)."),
            {"line": line, "column": column, "detail": detail},
            line=line,
            column=column,
        ) from exc


def parse_policy_file(data: bytes, filename: str | None, *, complete: bool) -> dict[str, Any]:
    """Validated settings, ready to store, from an uploaded file. Raises PolicyFileError.

    `complete` is for the municipal default, which must set every setting.
    """
    text = _decode(data)
    loaded = _load(text, detect_format(filename, text))
    try:
        settings = parse_settings(loaded, complete=complete)
    except PolicyError as exc:
        error = PolicyFileError(
            N_("Feil i «%(field)s»: %(message)s"),
            {"field": exc.field, "message": exc.text},
            field=exc.field,
        )
        error.policy_error = exc
        raise error from exc
    return policy_to_dict(settings)
