"""What one ``--feed KIND=URL[#ROLE=FIELD,...]`` asks to poll: kind, URL, field mapping."""
from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from loaders.live_feeds.ods import OdsMapping

KINDS = ("ngsi", "ods", "gbfs")


@dataclass(frozen=True)
class FeedSpec:
    """One ``--feed KIND=URL[#ROLE=FIELD,...]``: its kind, URL and (ods) field mapping."""

    kind: str
    url: str
    mapping: OdsMapping | None = None

    @classmethod
    def parse(cls, text: str) -> FeedSpec:
        """Raises ValueError naming what is wrong (kind, URL, mapping)."""
        kind, sep, rest = text.strip().partition("=")
        kind = kind.strip().lower()
        if not sep or kind not in KINDS:
            raise ValueError(f"{text[:80]!r}: expected KIND=URL with KIND one of {', '.join(KINDS)}")
        url, _, fragment = rest.strip().partition("#")
        if not url:
            raise ValueError(f"{text[:80]!r}: no URL after {kind}=")
        if kind == "ods":
            if not fragment:
                raise ValueError(f"{text[:80]!r}: an ods feed needs its field mapping after '#', "
                                 "e.g. #facility=id,free=nb_places_libres,capacity=nb_places")
            return cls(kind, url, OdsMapping.parse(fragment))
        if fragment:
            raise ValueError(f"{text[:80]!r}: only ods feeds take a field mapping after '#'")
        return cls(kind, url)

    def public_url(self) -> str:
        """The URL without user:password and without its query (keys and tokens hide there)."""
        parts = urllib.parse.urlsplit(self.url)
        if not parts.scheme or not parts.netloc:
            return self.url
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))
