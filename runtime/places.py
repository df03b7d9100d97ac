"""Where a dossier is, for the public holidays its delays skip (Alsace-Moselle, each overseas department).

The département is the dossier's `departement` field when someone set it by hand, otherwise the one of the
first postcode found in its `postcode` or `address` fields. Only the dossier's data is read: the engine's
context is built at every step without another query.
"""

import re

from bpmn.durations import Holidays, holidays_for

from .models import Dossier

_POSTCODE = re.compile(r"\b(\d{5})\b")


def departement_of_postcode(postcode: str) -> str:
    """For example "57000" → "57", "97110" → "971", "20000" → "2A" (Corse-du-Sud), "20200" → "2B"."""
    if postcode.startswith("97"):
        return postcode[:3]
    if postcode.startswith("20"):
        return "2A" if postcode < "20200" else "2B"
    return postcode[:2]


def departement(data: dict | None) -> str | None:
    """The département of a dossier's data."""
    data = data or {}
    chosen = str(data.get("departement") or "").strip().upper()
    if chosen:
        return chosen
    for text in (data.get("postcode"), data.get("address")):
        found = _POSTCODE.search(str(text or ""))
        if found:
            return departement_of_postcode(found.group(1))
    return None


def holidays_of(dossier: Dossier) -> Holidays:
    return holidays_for(departement(dossier.data))


def place_of(dossier: Dossier) -> dict:
    """What the dossier page says about where its delays are counted: the département, whether someone set
    it by hand, and the public holidays it chooses ({"fr": ..., "en": ...})."""
    code = departement(dossier.data)
    holidays = holidays_for(code)
    return {
        "departement": code,
        "by_hand": bool(str((dossier.data or {}).get("departement") or "").strip()),
        "holidays": {"fr": holidays.place("fr"), "en": holidays.place("en")},
    }
