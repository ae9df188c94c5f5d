"""Page languages: Spanish (the default) and Quechua, from Babel catalogs, chosen per request.

Message ids are the Spanish texts themselves, so the Spanish catalog is the source language and
a text missing from the Quechua catalog reads in Spanish rather than as a code. Catalogs are
compiled from their `.po` files when the gateway starts: a fresh clone needs no build step.
The locale of the request being served lives in a ContextVar, which the Jinja2 gettext
callables read (newstyle gettext, so `{{ _("… %(n)s", n=3) }}` escapes and formats).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from gettext import NullTranslations
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"


@dataclass(frozen=True)
class Language:
    code: str  # the `<html lang>` value and the `lang` query parameter
    name: str  # its own name, as the language switch shows it


LANGUAGES = (Language("es", "Español"), Language("qu", "Runasimi"))
DEFAULT = LANGUAGES[0].code
CODES = frozenset(language.code for language in LANGUAGES)

_current: ContextVar[str] = ContextVar("page_locale", default=DEFAULT)


def pick(requested: str | None) -> str:
    return requested if requested in CODES else DEFAULT


@contextmanager
def speaking(code: str) -> Iterator[None]:
    token = _current.set(pick(code))
    try:
        yield
    finally:
        _current.reset(token)


def current() -> str:
    return _current.get()


@cache
def translations(code: str) -> NullTranslations:
    """The compiled catalog of `code`; no catalog on disk reads as the Spanish ids themselves."""
    po = LOCALES_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=code)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(message: str) -> str:
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current()).ngettext(singular, plural, n)


def _(message: str) -> str:
    """Mark and translate a text kept in Python code (the extractor looks for `_`)."""
    return gettext(message)


def N_(message: str) -> str:
    """Mark a text for the catalog without translating it yet (for module-level tables)."""
    return message
