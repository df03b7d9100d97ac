"""Factory helpers: small objects with sensible defaults, overridable."""

from pathlib import Path

from tests.conftest import START

DATA = Path(__file__).parent / "data"


class UserSnapshot:
    """The account's fields, read once: touching a live ORM object after a commit would open a transaction
    (on SQLite, the single write lock) that threads and other processes of the test would wait for."""

    def __init__(self, user):
        for name in ("id", "email", "name", "kind", "role", "active"):
            setattr(self, name, getattr(user, name))

    @property
    def is_partner(self) -> bool:
        return self.kind == "partner"


class Account:
    def __init__(self, user, token):
        self.user = UserSnapshot(user)
        self.token = token
        self.headers = {"Authorization": f"Bearer {token}"}

    @property
    def id(self):
        return self.user.id


def make_user(session, name="user", kind="internal", role="manager", password="correct horse", **overrides):
    from kernel.accounts import create_token, create_user

    user = create_user(
        session,
        email=overrides.get("email", f"{name}@example.test"),
        name=name.title(),
        kind=kind,
        role=role,
        password=password,
        now=START,
    )
    return Account(user, create_token(session, user, START))


def bpmn(name: str) -> bytes:
    return (DATA / "bpmn" / name).read_bytes()


def xml_headers(account: Account) -> dict:
    return {**account.headers, "Content-Type": "application/xml"}


def looping_run(session, user_id: int, now, reference: str, publish: bool = True):
    """A run of rt_loop (an installment checked again and again) on a new dossier whose manager, `user_id`,
    holds the role; committed. `publish`: rt_loop is published first."""
    from designer import services as designer
    from runtime.actors import Actor
    from runtime.dossiers import add_participant, create_dossier
    from runtime.runs import launch_run

    actor = Actor(user_id=user_id)
    if publish:
        designer.save_draft(session, bpmn("runtime/rt_loop.bpmn"), user_id, now)
        designer.publish_version(session, "rt_loop", user_id, now)
    dossier = create_dossier(session, actor, reference, "Échéancier", {}, now)
    add_participant(
        session, dossier, actor, now, kind="internal", name="G", user_id=user_id, roles=["gestionnaire"]
    )
    run = launch_run(session, dossier.id, actor, now, sequence="rt_loop")
    session.commit()
    return run


# The words rt_form.bpmn and the form tests use, as an analyst would define them in the dictionary.
FORM_WORDS = {
    "fields": [
        {"key": "balance", "label": "Solde", "type": "amount"},
        {"key": "monthly_rent", "label": "Loyer mensuel", "type": "amount"},
        {"key": "montant_plan", "label": "Montant du plan", "type": "amount"},
        {"key": "nb_echeances", "label": "Nombre d'échéances", "type": "number"},
        {"key": "premiere_echeance", "label": "Première échéance", "type": "date"},
        {"key": "caution_informee", "label": "Caution informée", "type": "boolean"},
        {"key": "date_signification", "label": "Date de signification", "type": "date"},
        {
            "key": "frequence",
            "label": "Fréquence",
            "type": "choice",
            "choices": [
                {"key": "mensuelle", "label": "Mensuelle"},
                {"key": "trimestrielle", "label": "Trimestrielle"},
            ],
        },
    ],
    "roles": [
        {"key": "gestionnaire", "label": "Gestionnaire", "role_kind": "internal"},
        {"key": "commissaire_justice", "label": "Commissaire de justice", "role_kind": "partner"},
    ],
}


def add_words(session, words=FORM_WORDS, when=None):
    """Puts entries straight into the dictionary (no history of changes: a test's starting point)."""
    from datetime import UTC, datetime

    from designer.dictionary import DictionaryEntry

    at = when or datetime(2026, 1, 1, tzinfo=UTC)
    for kind, entries in words.items():
        for entry in entries:
            session.add(DictionaryEntry(kind=kind, updated_at=at, **entry))
    session.flush()
