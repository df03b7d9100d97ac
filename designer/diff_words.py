"""The differences between two versions said in words, for analysts: « Délai « 6 semaines » : 15 jours →
3 semaines », « Action « Relancer » ajoutée », in French or English.

designer/diff.py finds what changed, path by path; this module names the element (its kind and name), the
property (échéance, calendrier, délai, condition...) and the values (a delay in words, a calendar by its
name, a flow's ends by the names of the elements it joins). Layout and bookkeeping (incoming/outgoing lists,
lane membership) are left out: they follow from the changes that are listed."""

from dataclasses import dataclass

from bpmn.durations import describe_duration, parse_cycle, parse_duration
from bpmn.xml import parse_xml

from .diff import Diff, ElementDiff, diff_xml, elements

# What a reader never needs: lists that follow from other changes, and ids of technical children.
IGNORED = {"incoming", "outgoing", "flowNodeRef", "laneSet", "xsi:type"}
IGNORED_SUFFIXES = ("@xsi:type", "@id")
MAIN = {
    "timerEventDefinition/timeDuration",
    "timerEventDefinition/timeCycle",
    "timerEventDefinition/timeDate",
}

KINDS = {
    "fr": {
        "process": "Séquence",
        "lane": "Couloir",
        "participant": "Bassin",
        "collaboration": "Collaboration",
        "userTask": "Action",
        "sendTask": "Communication",
        "callActivity": "Appel de séquence",
        "task": "Tâche",
        "startEvent": "Début",
        "endEvent": "Fin",
        "intermediateCatchEvent": "Attente",
        "boundaryEvent": "Délai de bordure",
        "exclusiveGateway": "Branchement",
        "parallelGateway": "Branches parallèles",
        "inclusiveGateway": "Branches inclusives",
        "eventBasedGateway": "Attente du premier événement",
        "sequenceFlow": "Flux",
        "message": "Événement métier",
        "textAnnotation": "Annotation",
        "subProcess": "Sous-processus",
        "association": "Association",
    },
    "en": {
        "process": "Sequence",
        "lane": "Lane",
        "participant": "Pool",
        "collaboration": "Collaboration",
        "userTask": "Action",
        "sendTask": "Communication",
        "callActivity": "Call of a sequence",
        "task": "Task",
        "startEvent": "Start",
        "endEvent": "End",
        "intermediateCatchEvent": "Wait",
        "boundaryEvent": "Boundary event",
        "exclusiveGateway": "Gateway",
        "parallelGateway": "Parallel branches",
        "inclusiveGateway": "Inclusive branches",
        "eventBasedGateway": "Wait for the first event",
        "sequenceFlow": "Flow",
        "message": "Business event",
        "textAnnotation": "Annotation",
        "subProcess": "Sub-process",
        "association": "Association",
    },
}
TIMER_KINDS = {"fr": "Délai", "en": "Delay"}

PROPERTIES = {
    "fr": {
        "name": "nom",
        "seq:due": "échéance",
        "seq:calendar": "calendrier",
        "seq:notDuring": "pas pendant",
        "seq:role": "rôle",
        "seq:roleKind": "type de rôle",
        "seq:action": "type d'action",
        "seq:outcomes": "résultats possibles",
        "seq:channel": "canal",
        "seq:template": "modèle de message",
        "seq:next": "séquence suivante",
        "calledElement": "séquence appelée",
        "sourceRef": "départ",
        "targetRef": "arrivée",
        "default": "branche par défaut",
        "attachedToRef": "attaché à",
        "cancelActivity": "interrompt l'action",
        "conditionExpression": "condition",
        "timerEventDefinition/timeDuration": "délai",
        "timerEventDefinition/timeDate": "date",
        "timerEventDefinition/timeCycle": "cycle",
        "messageEventDefinition@messageRef": "événement attendu",
        "terminateEventDefinition": "fin immédiate",
        "isExecutable": "exécutable",
        "text": "texte",
        "documentation": "documentation",
        "type": "type",
    },
    "en": {
        "name": "name",
        "seq:due": "due",
        "seq:calendar": "calendar",
        "seq:notDuring": "not during",
        "seq:role": "role",
        "seq:roleKind": "role kind",
        "seq:action": "action type",
        "seq:outcomes": "possible outcomes",
        "seq:channel": "channel",
        "seq:template": "message template",
        "seq:next": "next sequence",
        "calledElement": "called sequence",
        "sourceRef": "from",
        "targetRef": "to",
        "default": "default branch",
        "attachedToRef": "attached to",
        "cancelActivity": "interrupts the action",
        "conditionExpression": "condition",
        "timerEventDefinition/timeDuration": "delay",
        "timerEventDefinition/timeDate": "date",
        "timerEventDefinition/timeCycle": "cycle",
        "messageEventDefinition@messageRef": "awaited event",
        "terminateEventDefinition": "immediate end",
        "isExecutable": "executable",
        "text": "text",
        "documentation": "documentation",
        "type": "type",
    },
}
VALUES = {
    "fr": {
        "seq:calendar": {
            "calendar": "jours calendaires",
            "business": "jours ouvrés",
            "legal": "délai de procédure (CPC)",
        },
        "seq:action": {"task": "tâche", "reminder": "relance", "validation": "validation"},
        "seq:roleKind": {"internal": "interne", "partner": "partenaire", "contact": "contact"},
        "seq:channel": {"email": "e-mail", "letter": "courrier", "sms": "SMS"},
        "seq:notDuring": {"treve_hivernale": "trêve hivernale"},
        "bool": {"true": "oui", "false": "non"},
    },
    "en": {
        "seq:calendar": {
            "calendar": "calendar days",
            "business": "working days",
            "legal": "procedural delay (CPC)",
        },
        "seq:action": {"task": "task", "reminder": "reminder", "validation": "validation"},
        "seq:roleKind": {"internal": "internal", "partner": "partner", "contact": "contact"},
        "seq:channel": {"email": "email", "letter": "letter", "sms": "SMS"},
        "seq:notDuring": {"treve_hivernale": "winter truce"},
        "bool": {"true": "yes", "false": "no"},
    },
}
WORDS = {
    "fr": {
        "added": "Ajout : {what}",
        "removed": "Suppression : {what}",
        "none": "aucun(e)",
        "other": "propriété {p}",
        "set": "{label} : {after}",
        "unset": "{label} retiré(e) (était {before})",
    },
    "en": {
        "added": "Added: {what}",
        "removed": "Removed: {what}",
        "none": "none",
        "other": "property {p}",
        "set": "{label}: {after}",
        "unset": "{label} removed (was {before})",
    },
}


@dataclass(frozen=True)
class Sentence:
    element_id: str
    change: str  # added | removed | changed
    text: str


def _quote(text: str, lang: str) -> str:
    return f"« {text} »" if lang == "fr" else f"“{text}”"


def _what(item: ElementDiff, lang: str, names: dict[str, str] | None = None) -> str:
    """« Délai « 6 semaines » », « Action « Relancer » », « Flux « Relancer » → « Payé ? » » for an unnamed
    flow (by the elements it joins)."""
    kinds = KINDS[lang]
    if item.kind == "sequenceFlow" and not item.name and names is not None:
        ends = {
            c.attribute: (c.after if c.after is not None else c.before)
            for c in item.changes
            if c.attribute in ("sourceRef", "targetRef")
        }
        if (
            ends.get("sourceRef")
            and ends.get("targetRef")
            and len(item.changes) == len([c for c in item.changes if c.before is None or c.after is None])
        ):
            source, target = (names.get(ends[k], ends[k]) for k in ("sourceRef", "targetRef"))
            return f"{kinds['sequenceFlow']} {_quote(source, lang)} → {_quote(target, lang)}"
    is_timer = any(c.attribute.startswith("timerEventDefinition") for c in item.changes)
    kind = (
        TIMER_KINDS[lang]
        if is_timer and item.kind in ("intermediateCatchEvent", "boundaryEvent")
        else (kinds.get(item.kind, item.kind))
    )
    return f"{kind} {_quote(item.name, lang)}" if item.name else kind


def _duration(value: str, calendar: str, lang: str) -> str | None:
    try:
        if value.upper().startswith("R"):
            count, every = parse_cycle(value)
            words = describe_duration(every, calendar, lang)
            if lang == "fr":
                return f"tous les {words}" + (f", {count} fois" if count > 0 else "")
            return f"every {words}" + (f", {count} times" if count > 0 else "")
        return describe_duration(parse_duration(value), calendar, lang)
    except (ValueError, TypeError):
        return None


def _value(attribute: str, value: str | None, lang: str, names: dict[str, str], calendar: str) -> str:
    if value is None or value == "":
        return WORDS[lang]["none"]
    table = VALUES[lang].get(attribute)
    if table:
        return table.get(value, value)
    if attribute in ("seq:due", "timerEventDefinition/timeDuration", "timerEventDefinition/timeCycle"):
        return _duration(value, calendar, lang) or value
    if attribute in ("sourceRef", "targetRef", "default", "attachedToRef"):
        return _quote(names.get(value) or value, lang)
    if value in ("true", "false"):
        return VALUES[lang]["bool"][value]
    return _quote(value, lang)


def _shown(attribute: str) -> bool:
    return attribute not in IGNORED and not attribute.endswith(IGNORED_SUFFIXES)


def _label(attribute: str, lang: str) -> str:
    return PROPERTIES[lang].get(attribute) or WORDS[lang]["other"].format(p=attribute)


def describe(diff: Diff, names: dict[str, str], lang: str = "fr") -> list[Sentence]:
    """Every difference as one sentence; `names`: element id -> name, from both versions (to name a flow's
    ends)."""
    lang = "en" if lang == "en" else "fr"
    words = WORDS[lang]
    sentences = []
    for item in diff.added:
        sentences.append(
            Sentence(item.element_id, "added", words["added"].format(what=_what(item, lang, names)))
        )
    for item in diff.removed:
        sentences.append(
            Sentence(item.element_id, "removed", words["removed"].format(what=_what(item, lang, names)))
        )
    for item in diff.changed:
        calendar_after = next((c.after for c in item.changes if c.attribute == "seq:calendar"), None)
        calendar_before = next((c.before for c in item.changes if c.attribute == "seq:calendar"), None)
        parts = []
        timer = item.kind in ("intermediateCatchEvent", "boundaryEvent", "startEvent")
        for change in item.changes:
            if not _shown(change.attribute):
                continue
            label = _label(change.attribute, lang)
            before = _value(change.attribute, change.before, lang, names, calendar_before or "calendar")
            after = _value(change.attribute, change.after, lang, names, calendar_after or "calendar")
            if change.before is None:
                parts.append(words["set"].format(label=label, after=after))
            elif change.after is None:
                parts.append(words["unset"].format(label=label, before=before))
            elif timer and change.attribute in MAIN:
                parts.append(f"{before} → {after}")  # what "Délai « 6 semaines »" is about: no label
            else:
                parts.append(f"{label}{' : ' if lang == 'fr' else ': '}{before} → {after}")
        if parts:
            colon, joiner = (" : ", " ; ") if lang == "fr" else (": ", "; ")
            sentences.append(
                Sentence(item.element_id, "changed", _what(item, lang) + colon + joiner.join(parts))
            )
    return sentences


def element_names(*files: dict, lang: str = "fr") -> dict[str, str]:
    """Element id -> its name (or its kind, unnamed), from designer.diff.elements() of each version (the
    newer one wins)."""
    kinds = KINDS["en" if lang == "en" else "fr"]
    names: dict[str, str] = {}
    for found in files:
        for element_id, (kind, props) in found.items():
            names[element_id] = props.get("name") or kinds.get(kind, kind)
    return names


def compare(before: bytes, after: bytes, lang: str = "fr") -> tuple[Diff, list[Sentence]]:
    """The differences between two files of a sequence, and the same said in words."""
    result = diff_xml(before, after)
    names = element_names(elements(parse_xml(before)), elements(parse_xml(after)), lang=lang)
    return result, describe(result, names, lang)
