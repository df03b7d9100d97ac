"""Who a sequence's communications will not reach: told before launching, not when the letter is due.

A send task writes to the holders of its lane's role through its channel; a holder without the address that
channel needs (an email, a postal address, a phone) would make the communication fail once the run gets
there. Launching says so first, step by step and person by person, and asks for an explicit go-ahead."""

from sqlalchemy.orm import Session

from designer.models import SequenceVersion
from kernel.errors import RuleBroken

from .communications.outbox import ADDRESS_FIELD, MISSING, valid_email
from .models import Dossier
from .specs import model_of, pin_called_versions

CHANNEL_LABELS = {"email": "e-mail", "letter": "lettre", "sms": "SMS"}


def unreachable_contacts(
    session: Session, dossier: Dossier, version: SequenceVersion, holders: dict[str, list[int]]
) -> list[dict]:
    """One entry per send task (of the sequence and those it calls) and holder it cannot reach."""
    people = {participant.id: participant for participant in dossier.participants}
    models = [model_of(version)] + [
        model_of(session.get(SequenceVersion, version_id))
        for version_id in pin_called_versions(session, version).values()
    ]
    found: list[dict] = []
    for model in models:
        for element in model.elements.values():
            field = ADDRESS_FIELD.get(element.channel or "")
            if element.tag != "sendTask" or field is None:
                continue
            for participant_id in holders.get(element.role or "", []):
                participant = people.get(participant_id)
                if participant is None:
                    continue
                address = (getattr(participant, field) or "").strip()
                if address and (element.channel != "email" or valid_email(address)):
                    continue
                lack = MISSING[element.channel] if not address else "d'adresse e-mail valide"
                step = element.name or element.id
                found.append({
                    "element_id": element.id, "step": step, "channel": element.channel,
                    "participant_id": participant.id, "participant": participant.name, "missing": field,
                    "message": f"« {step} » ({CHANNEL_LABELS[element.channel]}) : {participant.name} n'a pas "
                               f"{lack}",
                })
    return found


def check_reach(
    session: Session, dossier: Dossier, version: SequenceVersion, holders: dict[str, list[int]], allowed: bool
) -> None:
    """Refuses the launch (422 unreachable_contacts, with the list) unless the user allowed it explicitly."""
    if allowed:
        return
    unreachable = unreachable_contacts(session, dossier, version, holders)
    if unreachable:
        raise RuleBroken(
            "Des communications de la séquence n'atteindront pas leur destinataire : "
            + " ; ".join(entry["message"] for entry in unreachable)
            + ". Complétez les coordonnées des intervenants, ou lancez quand même.",
            code="unreachable_contacts",
            contacts=unreachable,
        )
