"""Request bodies, declared once: they validate input (400 when malformed) and describe the API."""

from apiflask import Schema
from apiflask.fields import Boolean, DateTime, Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from marshmallow import INCLUDE

PARTICIPANT_KINDS = ["internal", "partner", "contact"]
STATUSES = ["done", "validated", "cancelled", "skipped"]
# Ids and counters are 32-bit integer columns: a bigger number is refused (400), not sent to the database.
MAX_INT = 2**31 - 1
IN_RANGE = Range(-MAX_INT, MAX_INT)


# The services refuse a value longer than its field (422 naming the field and the limit, runtime/dossiers.py):
# the schemas only document the limits, so the API and the pages answer alike.
class DossierIn(Schema):
    reference = String(required=True, validate=Length(min=1), metadata={"maxLength": 100})
    title = String(load_default=None, metadata={"maxLength": 300})
    data = Dict(load_default=dict)


class DossierPatch(Schema):
    title = String(validate=Length(min=1), metadata={"maxLength": 300})
    data = Dict()


class ParticipantIn(Schema):
    kind = String(required=True, validate=OneOf(PARTICIPANT_KINDS))
    name = String(required=True, validate=Length(min=1), metadata={"maxLength": 300})
    email = String(load_default=None, metadata={"maxLength": 254})
    phone = String(load_default=None, metadata={"maxLength": 50})
    address = String(load_default=None, validate=Length(0, 2000))
    user_email = String(load_default=None, validate=Length(0, 254))
    roles = List(String(validate=Length(1, 100)), load_default=list)


class ParticipantRolesIn(Schema):
    roles = List(String(validate=Length(1, 100)), required=True)


class RunIn(Schema):
    sequence = String(required=True, validate=Length(1, 200))
    version = Integer(load_default=None, validate=IN_RANGE)
    roles = Dict(keys=String(), values=List(Integer(validate=IN_RANGE)), load_default=None)
    allow_unassigned = Boolean(load_default=False)
    allow_unreachable = Boolean(load_default=False)
    confirm = Boolean(load_default=False)  # launch even if the sequence already runs on the dossier


class RolesIn(Schema):
    participant_ids = List(Integer(validate=IN_RANGE), required=True)


class HandoverIn(Schema):
    action_ids = List(Integer(validate=IN_RANGE), required=True)
    user_id = Integer(required=True, validate=IN_RANGE)
    dry_run = Boolean(load_default=False)


class ReasonIn(Schema):
    reason = String(required=True, validate=Length(1, 2000))


class SwitchIn(Schema):
    sequence = String(required=True, validate=Length(1, 200))
    reason = String(required=True, validate=Length(1, 2000))
    roles = Dict(keys=String(), values=List(Integer(validate=IN_RANGE)), load_default=None)


class AdhocIn(Schema):
    name = String(required=True, validate=Length(1, 300))
    role = String(required=True, validate=Length(1, 100))
    due_at = DateTime(load_default=None)


class MoveBackIn(Schema):
    step = Integer(required=True, validate=IN_RANGE)
    reason = String(required=True, validate=Length(1, 2000))


class CompleteIn(Schema):
    status = String(required=True, validate=Length(1, 20))
    outcome = String(load_default=None, validate=Length(0, 100))
    comment = String(load_default=None, metadata={"maxLength": 10000})  # longer: 422 from the service
    # The action's form: {field: value}, values as people type them ("1 200,50", "15/03/2027").
    data = Dict(load_default=None)


class EventIn(Schema):
    name = String(required=True, validate=Length(1, 200))
    data = Dict(load_default=None)


class ActionsQuery(Schema):
    dossier_id = Integer(load_default=None, validate=IN_RANGE)
    run_id = Integer(load_default=None, validate=IN_RANGE)
    status = String(load_default=None)
    mine = Boolean(load_default=False)
    unassigned = Boolean(load_default=False)
    limit = Integer(load_default=200, validate=IN_RANGE)
    offset = Integer(load_default=0, validate=IN_RANGE)


class ChoiceIn(Schema):
    key = String(required=True, metadata={"maxLength": 100})
    label = String(load_default=None, metadata={"maxLength": 200})
    label_en = String(load_default=None, allow_none=True, metadata={"maxLength": 200})


class EventFieldIn(Schema):
    key = String(required=True, metadata={"maxLength": 100})
    label = String(load_default=None, metadata={"maxLength": 200})
    label_en = String(load_default=None, allow_none=True, metadata={"maxLength": 200})
    type = String(
        load_default="text", metadata={"enum": ["date", "amount", "number", "text", "choice", "boolean"]}
    )
    choices = List(Nested(ChoiceIn), load_default=list)
    required = Boolean(load_default=False)
    help = String(load_default=None, allow_none=True, metadata={"maxLength": 2000})


# One body for the four kinds of entries; the service checks what each kind needs (422 naming the field):
# roles {key, label, label_en, kind, help}; fields {key, label, label_en, type, choices, help};
# events {key, label, label_en, fields, help}; outcomes {key, label, label_en, help}.
class EntryIn(Schema):
    key = String(required=True, metadata={"maxLength": 100, "description": "letters, digits and _"})
    label = String(load_default=None, metadata={"maxLength": 200})
    label_en = String(load_default=None, allow_none=True, metadata={"maxLength": 200})
    help = String(load_default=None, allow_none=True, metadata={"maxLength": 2000})
    kind = String(
        load_default=None, metadata={"enum": PARTICIPANT_KINDS, "description": "roles: who holds it"}
    )
    type = String(
        load_default=None, metadata={"enum": ["date", "amount", "number", "text", "choice", "boolean"]}
    )
    choices = List(Nested(ChoiceIn), load_default=list)
    fields = List(Nested(EventFieldIn), load_default=list)


class EntryUpdate(EntryIn):
    """What is left out stays as it was."""

    key = String(load_default=None, metadata={"description": "the key in the path is kept"})
    choices = List(Nested(ChoiceIn), load_default=None)
    fields = List(Nested(EventFieldIn), load_default=None)


class DataIn(Schema):
    """`{field: value, ...}`: any dossier field of the dictionary, its value as people type it."""

    class Meta:
        unknown = INCLUDE
