"""What the page of one action shows its holder (the portal) so that they can work from it: the dossier's main
facts, the task's instructions (the BPMN documentation the analyst wrote on the step), the documents (the
action's own and those the managers shared), the comment thread, and how it may end. Read in a few queries;
a done action stays readable, with what was sent."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bpmn.dialect import BPMN_NS
from bpmn.xml import parse_xml
from designer import dictionary
from designer.models import SequenceVersion
from designer.values import display

from . import comments, documents
from .actions import allowed_statuses, get_action
from .actors import Actor
from .dossiers import get_dossier
from .models import Action, Dossier
from .specs import model_of, version_holding

MAX_INSTRUCTIONS = 20_000
_INSTRUCTIONS: dict[tuple[int, str, str], str] = {}


@dataclass
class ActionPage:
    action: Action
    dossier: Dossier
    role_name: str
    facts: list[tuple[str, str]]  # (label, value as people read it)
    instructions: str
    documents: list[documents.Document]  # the action's own
    shared: list[documents.Document]  # the dossier's, shared by its managers
    thread: list[comments.Shown]
    endings: list[str]
    outcome_labels: dict[str, str]  # the action's outcomes (and the one chosen) as people read them
    previews: set[int] = field(default_factory=set)  # documents shown in the page


def action_page(session: Session, action_id: int, actor: Actor, lang: str = "fr") -> ActionPage:
    """The page of an action the actor may see (a partner's 404 outside the roles they hold), in `lang`."""
    action = get_action(session, action_id, actor)
    words = dictionary.load(session)
    dossier = get_dossier(session, action.dossier_id)
    version = version_holding(session, action.run, action.element_id)
    model = model_of(version)
    role = model.roles.get(action.role)
    own = documents.documents_of(session, dossier.id, [action.id])
    shared = [d for d in documents.shared_documents(session, dossier.id) if d.action_id != action.id]
    return ActionPage(
        action=action,
        dossier=dossier,
        role_name=_role_name(words, action.role, role.name if role is not None else None, lang),
        facts=facts_of(dossier, words, lang),
        instructions=instructions(session, version, action.element_id),
        documents=own,
        shared=shared,
        thread=comments.thread(session, dossier.id, actor, action_id=action.id),
        endings=allowed_statuses(action, actor),
        outcome_labels={
            key: words.label("outcomes", key, lang)
            for key in [*(action.outcomes or []), action.outcome]
            if key
        },
        previews={d.id for d in own + shared if d.content_type in documents.PREVIEWED},
    )


def facts_of(dossier: Dossier, words: dictionary.Dictionary, lang: str = "fr") -> list[tuple[str, str]]:
    """The dossier's main data, as people read it: each plain value (text, number, date, yes/no) with the
    dictionary's label and format, in the order stored."""
    found = []
    for key, value in (dossier.data or {}).items():
        if not (isinstance(value, bool | int | float) or (isinstance(value, str) and value.strip())):
            continue
        spec = words.fields.get(key)
        shown = display(spec, value, lang) if spec is not None else _plain(value, lang)
        found.append((words.label("fields", key, lang), shown))
    return found


def _plain(value, lang: str) -> str:
    """A value the dictionary does not describe: an ISO date is shown as a date, the rest as it is."""
    if isinstance(value, str) and len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value
        return day.strftime("%d/%m/%Y") if lang == "fr" else day.isoformat()
    if isinstance(value, bool):
        return ("Oui" if value else "Non") if lang == "fr" else ("Yes" if value else "No")
    return str(value)


def instructions(session: Session, version: SequenceVersion, element_id: str) -> str:
    """The `bpmn:documentation` of the element, as plain text (kept per version: versions never change)."""
    key = (version.id, version.checksum, element_id)
    if key not in _INSTRUCTIONS:
        xml = session.scalar(select(SequenceVersion.xml).where(SequenceVersion.id == version.id))
        _INSTRUCTIONS[key] = _documentation(xml, element_id) if xml else ""
    return _INSTRUCTIONS[key]


def _documentation(xml: bytes, element_id: str) -> str:
    root = parse_xml(xml)  # entities never resolved, no DTD, size bounded
    for element in root.iter():
        if element.get("id") == element_id:
            texts = ["".join(d.itertext()).strip() for d in element.findall(f"{{{BPMN_NS}}}documentation")]
            return "\n\n".join(t for t in texts if t)[:MAX_INSTRUCTIONS]
    return ""


def _role_name(words: dictionary.Dictionary, role: str, lane: str | None, lang: str) -> str:
    """The dictionary's label of the role, else the lane's name, else the key made readable."""
    if role in words.roles or not lane:
        return words.label("roles", role, lang)
    return lane
