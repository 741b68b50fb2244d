"""Facility names: a normal form, and whether two names denote the same place across sources."""
from __future__ import annotations

import difflib
import re
import unicodedata


def normalize_name(name: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a name: 'Comédie ' -> 'comedie'."""
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


# Words that say "this is a parking" in the languages of the sources, not which parking it is.
_GENERIC_WORDS = frozenset({
    "parking", "parkings", "parc", "parcs", "car", "park", "carpark", "p", "r", "pr", "relais",
    "stationnement", "aparcamiento", "parcheggio", "parkhaus", "de", "du", "des", "la", "le", "les",
    "l", "d", "the", "of", "del", "di",
})


def _name_tokens(name: str) -> frozenset:
    return frozenset(t for t in normalize_name(name).split() if t not in _GENERIC_WORDS)


def names_similar(a: str, b: str) -> bool:
    """True when two facility names denote the same place: 'Parking Antigone' ~ 'Antigone'.

    Compares the names without generic words ('parking', 'parc', 'de'...): equal or nested word
    sets, or a close spelling (difflib ratio >= 0.8). Unnamed facilities are never similar.
    """
    ta, tb = _name_tokens(a), _name_tokens(b)
    if not ta or not tb:
        return False
    if ta <= tb or tb <= ta:
        return True
    return difflib.SequenceMatcher(None, " ".join(sorted(ta)), " ".join(sorted(tb))).ratio() >= 0.8

