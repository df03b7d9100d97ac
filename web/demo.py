"""`sequences demo`: users, partners, dossiers and the rent-arrears library (web/demo_library), published.

Idempotent: users are looked up by e-mail, sequences by key (a sequence already published is left as it
is, so an analyst's later versions survive), dossiers by reference; running it twice adds nothing.

All or nothing: everything is written in one database transaction, so a worker (`sequences worker`, or the one
inside `sequences serve`) never sees a dossier half-built and never fires a timer the demo is still arranging,
and a failure leaves the database as it was. The services' own commits within it (letters are delivered by the
worker's function, which commits) only mark savepoints.

The library's keys must be the demo's: a sequence of one of its keys drawn by someone else is refused before
anything is written; `--prefix` loads the library under other keys (`demo_relance_amiable`...), its switches
(`seq:next`) and calls (`calledElement`) rewritten alike, and runs the demo's dossiers on them.

Dossiers are advanced through the services, as people and the system would have done it: each story starts
some days ago and every completion, business event and timer firing is dated in the past, so the history
reads naturally and some actions are overdue today. Timers still pending are always due in the future.
"""

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import click
from flask.cli import with_appcontext
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from bpmn.dialect import local, read_model, ref, seq
from bpmn.xml import parse_xml
from designer import services
from designer.models import Sequence
from designer.services import publish_versions
from kernel import accounts
from kernel.errors import Conflict, DomainError
from runtime import dossiers as dossier_service
from runtime import engine_cache
from runtime.actions import complete_action
from runtime.actors import Actor
from runtime.communications import templates
from runtime.delivery import deliver_pending
from runtime.events import fire_timer, post_event
from runtime.models import Action, ActionStatus, ActionType, Dossier, Run, RunStatus, Timer
from runtime.runs import launch_run

from .clock import now as clock_now
from .demo_dictionary import ensure_dictionary
from .extensions import db

LIBRARY = Path(__file__).resolve().parent / "demo_library"
# Where a file names a sequence: a switch, a call, a pool (and a diagram drawn without a pool).
REFERENCES = (seq("next"), "calledElement", "processRef", "bpmnElement")
PASSWORD = "demo-sequences"
LANDLORD = "Les Toits de Loire"
DEPARTMENTS = {"37": ("d'Indre-et-Loire", "37000 Tours"), "41": ("de Loir-et-Cher", "41000 Blois"),
               "45": ("du Loiret", "45000 Orléans")}

ANALYST = "analyste@sequences.test"  # publishes the library
# (key, e-mail, name, kind, application role)
USERS = [
    ("admin", "admin@sequences.test", "Sophie Lefèvre", "internal", "admin"),
    ("analyst", ANALYST, "Nadia Haddad", "internal", "analyst"),
    ("claire", "claire.martin@sequences.test", "Claire Martin", "internal", "manager"),
    ("karim", "karim.benali@sequences.test", "Karim Benali", "internal", "manager"),
    ("garnier", "elise.garnier@sequences.test", "Maître Élise Garnier", "partner", None),
    ("roux", "thomas.roux@sequences.test", "Maître Thomas Roux", "partner", None),
]
ROLES_OF = {
    "admin": "administratrice",
    "analyst": "analyste : bibliothèque et concepteur de séquences",
    "claire": "gestionnaire (et comptable, responsable du contentieux des dossiers de Karim)",
    "karim": "gestionnaire (et comptable, responsable du contentieux des dossiers de Claire)",
    "garnier": "partenaire : commissaire de justice (portail)",
    "roux": "partenaire : avocat (portail)",
}

SIGNATURE = "\n\nFait le {{ today|date_fr }}.\nLe service de gestion locative"
DEBT = ("{% if dossier.data.balance is defined %} : le montant restant dû s'élève à "
        "{{ dossier.data.balance|money }}{% endif %}")
TENANT = ("{% if dossier.data.tenant is defined %}{{ dossier.data.tenant }}"
          "{% else %}votre locataire{% endif %}")
# Every send task of the library has its template (all letters: they go out as PDF without a mail server).
TEMPLATES = {
    "relance_amiable": (
        "Relance amiable (locataire)", "Loyer impayé — dossier {{ dossier.reference }}",
        "{{ recipient.name }},\n\nSauf erreur de notre part, votre loyer n'a pas été réglé" + DEBT + ".\n\n"
        "Nous vous remercions de régulariser votre situation dans les meilleurs délais, ou de "
        "prendre contact "
        "avec votre gestionnaire pour convenir d'une solution." + SIGNATURE),
    "mise_en_demeure": (
        "Mise en demeure (locataire)", "Mise en demeure de payer — dossier {{ dossier.reference }}",
        "{{ recipient.name }},\n\nMalgré notre précédente relance, votre dette locative demeure" + DEBT
        + ".\n\nPar la présente, nous vous mettons en demeure de régler cette somme dans un délai de huit "
        "jours à compter de la réception de ce courrier. À défaut, nous mandaterons un commissaire "
        "de justice "
        "pour vous signifier un commandement de payer visant la clause résolutoire du bail." + SIGNATURE),
    "mise_en_demeure_caution": (
        "Copie de la mise en demeure (caution)", "Information de la caution — dossier {{ "
        "dossier.reference }}",
        "{{ recipient.name }},\n\nEn votre qualité de caution de " + TENANT + ", nous vous informons que "
        "celui-ci a été mis en demeure de régler sa dette locative" + DEBT + ".\n\nÀ défaut de "
        "régularisation, nous serons fondés à vous en demander le paiement." + SIGNATURE),
    "signalement_caf": (
        "Signalement de l'impayé à la CAF / MSA", "Signalement d'un impayé de loyer — {{ "
        "dossier.reference }}",
        "Madame, Monsieur,\n\nNous vous signalons l'impayé de loyer de " + TENANT + DEBT + ", qui atteint "
        "au moins deux fois le montant du loyer mensuel.\n\nNous restons à votre disposition pour la mise en "
        "place d'un plan d'apurement." + SIGNATURE),
    "saisine_ccapex": (
        "Saisine de la CCAPEX", "Saisine de la CCAPEX — dossier {{ dossier.reference }}",
        "Madame, Monsieur,\n\nUn commandement de payer a été signifié à " + TENANT + DEBT + ".\n\n"
        "Conformément à la loi, nous saisissons la commission de coordination des actions de prévention des "
        "expulsions locatives au moins deux mois avant toute assignation." + SIGNATURE),
    "echeancier": (
        "Échéancier du plan d'apurement", "Votre plan d'apurement — dossier {{ dossier.reference }}",
        "{{ recipient.name }},\n\nVous trouverez ci-dessous le plan d'apurement convenu"
        "{% if dossier.data.installments is defined %} : {{ dossier.data.installments }} échéances mensuelles"
        "{% if dossier.data.installment_amount is defined %} de {{ dossier.data.installment_amount|money }}"
        "{% endif %}{% endif %}, à régler en plus du loyer courant.\n\nUne échéance manquée entraîne une "
        "relance, puis la reprise de la procédure." + SIGNATURE),
    "relance_echeance": (
        "Relance d'échéance impayée", "Échéance impayée — dossier {{ dossier.reference }}",
        "{{ recipient.name }},\n\nL'échéance de votre plan d'apurement ou votre loyer courant n'a pas été "
        "réglé. Vous disposez de huit jours pour régulariser ; à défaut, le plan sera considéré comme rompu."
        + SIGNATURE),
    "aides_relogement": (
        "Aides au relogement (locataire)", "Aides au relogement — dossier {{ dossier.reference }}",
        "{{ recipient.name }},\n\nUn commandement de quitter les lieux vous a été signifié. Des "
        "aides existent "
        "pour vous accompagner : service social de votre commune, fonds de solidarité logement (FSL), "
        "demande de logement social, droit au logement opposable (DALO).\n\nVotre gestionnaire reste à "
        "votre écoute." + SIGNATURE),
    "demande_indemnisation": (
        "Demande d'indemnisation à l'État", "Demande préalable d'indemnisation — {{ dossier.reference }}",
        "Madame la Préfète, Monsieur le Préfet,\n\nLe concours de la force publique pour l'exécution de la "
        "décision d'expulsion visant " + TENANT + " a été refusé ou est resté sans réponse pendant deux "
        "mois.\n\nNous vous demandons en conséquence l'indemnisation du préjudice subi par le bailleur"
        + DEBT + "." + SIGNATURE),
}


@dataclass
class Case:
    """One demo dossier and its story: steps applied in order, each `days` after the previous one."""

    reference: str
    tenant: str
    address: str
    balance: float
    rent: float
    sequence: str
    started_days_ago: int
    steps: tuple = ()
    manager: str = "claire"
    caf: bool = True
    guarantor: str | None = None
    landlord_kind: str = "personne_morale"
    commissaire: bool = True
    avocat: bool = False
    hearing_in_days: int | None = None
    allow_unassigned: bool = False
    extra: dict = field(default_factory=dict)


def do(element: str, outcome: str | None = None, days: float = 0) -> tuple:
    return ("do", element, outcome, days)


def timer(element: str) -> tuple:
    return ("timer", element)


def event(name: str, data: dict | None = None, days: float = 0) -> tuple:
    return ("event", name, data, days)


def set_data(data: dict, days: float = 0) -> tuple:
    return ("data", data, days)


# S1 → relance; S2 → commandement; S3 → assignation; S4 → expulsion; S5 → plan.
S1_TO_S2 = (do("Suivre_relance", "no_answer", 6), do("Suivre_mise_en_demeure", "no_answer", 9))
S2_SERVED = (do("Mandater_commissaire", None, 2), do("Signifier_commandement", "served", 6),
             do("Signifier_caution", None, 5))
# Served 15 days after the start; the préfet's deadline (6 weeks before the hearing) must fall later.
S3_TO_HEARING = (do("Preparer_assignation", None, 3), do("Valider_engagement", "go", 1),
                 do("Rediger_assignation", None, 6), do("Signifier_assignation", None, 5),
                 do("Diagnostic", None, 10))

CASES = [
    # --- S1 Relance amiable ---
    Case("IMP-2026-0101", "Julie Moreau", "12 rue Nationale, 37000 Tours", 612.40, 612.40,
         "relance_amiable", 2, guarantor="Bernard Moreau"),
    Case("IMP-2026-0102", "Kevin Lambert", "4 allée des Tilleuls, 37100 Tours", 540.00, 540.00,
         "relance_amiable", 12, manager="karim", guarantor="Sylvie Lambert"),
    Case("IMP-2026-0103", "Fatima Benali", "27 avenue de Grammont, 37000 Tours", 1_248.60, 624.30,
         "relance_amiable", 16, steps=(do("Suivre_relance", "no_answer", 7),), guarantor="Mohamed Benali"),
    Case("IMP-2026-0104", "Thomas Girard", "3 place Plumereau, 37000 Tours", 1_310.00, 655.00,
         "relance_amiable", 30, steps=(timer("Relance_sans_reponse"),), manager="karim", caf=False,
         allow_unassigned=True),
    Case("IMP-2026-0105", "Léa Fontaine", "8 rue Colbert, 37000 Tours", 498.20, 498.20,
         "relance_amiable", 25, steps=(do("Suivre_relance", "paid", 4),), guarantor="Anne Fontaine"),
    Case("IMP-2026-0106", "Nicolas Petit", "15 rue de la Scellerie, 37000 Tours", 730.00, 730.00,
         "relance_amiable", 16, steps=(do("Suivre_relance", "promise", 3),), manager="karim",
         guarantor="Martine Petit"),
    Case("IMP-2026-0107", "Sandrine Roussel", "21 boulevard Béranger, 37000 Tours", 1_402.00, 701.00,
         "relance_amiable", 24, guarantor="Paul Roussel",
         steps=(do("Suivre_relance", "no_answer", 8), event("paiement_recu", {"montant": 400.00}, 6))),
    # --- S2 Précontentieux ---
    Case("IMP-2026-0108", "Yannick Lefort", "6 rue du Commerce, 41000 Blois", 1_905.00, 635.00,
         "relance_amiable", 24, steps=S1_TO_S2, guarantor="Odile Lefort"),
    Case("IMP-2026-0109", "Amandine Leroy", "9 rue Porte-Chartraine, 41000 Blois", 1_980.00, 660.00,
         "relance_amiable", 33, steps=(*S1_TO_S2, do("Mandater_commissaire", None, 3)), manager="karim",
         guarantor="Pascal Leroy"),
    Case("IMP-2026-0110", "Mehdi Chaouch", "2 rue des Halles, 45000 Orléans", 2_140.00, 713.30,
         "precontentieux", 9, guarantor="Karima Chaouch",
         steps=(do("Mandater_commissaire", None, 1), do("Signifier_commandement", "served", 5))),
    Case("IMP-2026-0111", "Sophie Marchand", "18 rue de Bourgogne, 45000 Orléans", 2_310.00, 770.00,
         "precontentieux", 20, steps=S2_SERVED, manager="karim", guarantor="Hervé Marchand"),
    Case("IMP-2026-0112", "Olivier Blanc", "5 quai du Châtelet, 45000 Orléans", 1_650.00, 550.00,
         "precontentieux", 14, landlord_kind="personne_physique", extra={"landlord": "M. et Mme Perrin"},
         steps=(do("Mandater_commissaire", None, 1), do("Signifier_commandement", "served", 6))),
    Case("IMP-2026-0113", "Camille Dubois", "30 rue Bannier, 45000 Orléans", 2_004.00, 668.00,
         "precontentieux", 28, steps=(*S2_SERVED, event("plan_accepte", {"installments": 12}, 4)),
         guarantor="Jean Dubois"),
    Case("IMP-2026-0114", "Romain Gauthier", "11 rue Denis-Papin, 41000 Blois", 1_780.00, 593.30,
         "precontentieux", 5, commissaire=False, allow_unassigned=True, manager="karim",
         steps=(do("Mandater_commissaire", None, 1),)),
    # --- S3 Contentieux ---
    Case("IMP-2026-0115", "Hélène Carpentier", "44 rue Michelet, 37000 Tours", 3_120.00, 780.00,
         "precontentieux", 60, steps=(*S2_SERVED, timer("Six_semaines")), avocat=True,
         guarantor="Luc Carpentier"),
    Case("IMP-2026-0116", "David Roche", "7 impasse des Vignes, 37200 Tours", 2_890.00, 722.50,
         "contentieux", 6, steps=(do("Preparer_assignation", None, 2),), manager="karim", avocat=True),
    Case("IMP-2026-0117", "Isabelle Renard", "16 rue Marceau, 37000 Tours", 3_450.00, 690.00,
         "contentieux", 22, avocat=True,
         steps=(do("Preparer_assignation", None, 2), do("Valider_engagement", "go", 1))),
    Case("IMP-2026-0118", "Patrick Vidal", "52 avenue de la République, 45000 Orléans", 3_010.00, 752.50,
         "contentieux", 17, manager="karim", avocat=True,
         steps=(do("Preparer_assignation", None, 3), do("Valider_engagement", "go", 1),
                do("Rediger_assignation", None, 8))),
    Case("IMP-2026-0119", "Nathalie Perrot", "3 rue Sainte-Catherine, 45000 Orléans", 2_760.00, 690.00,
         "contentieux", 15, avocat=True, hearing_in_days=85,
         steps=(do("Preparer_assignation", None, 2), do("Valider_engagement", "go", 1),
                do("Rediger_assignation", None, 7))),
    Case("IMP-2026-0120", "Christophe Adam", "19 rue du Bourg-Neuf, 41000 Blois", 3_300.00, 660.00,
         "contentieux", 45, steps=S3_TO_HEARING, manager="karim", avocat=True, hearing_in_days=20),
    Case("IMP-2026-0121", "Valérie Mercier", "1 rue Jules-Favre, 37000 Tours", 3_560.00, 712.00,
         "contentieux", 70, steps=(*S3_TO_HEARING, do("Audience", "adjourned", 35)), avocat=True,
         hearing_in_days=-10),
    # --- S4 Expulsion ---
    Case("IMP-2026-0122", "Stéphane Collin", "28 rue Victor-Hugo, 37000 Tours", 5_210.00, 744.30,
         "contentieux", 80, avocat=True, hearing_in_days=-21,
         steps=(*S3_TO_HEARING, do("Audience", "eviction_ordered", 34), do("Signifier_jugement", None, 10))),
    Case("IMP-2026-0123", "Brigitte Lemaire", "10 rue Néricault-Destouches, 37000 Tours", 5_980.00, 747.50,
         "expulsion", 20, steps=(do("Commandement_quitter", None, 6),), manager="karim", avocat=True),
    Case("IMP-2026-0124", "Alain Barbier", "35 boulevard Jean-Jaurès, 45000 Orléans", 6_320.00, 790.00,
         "expulsion", 75, steps=(do("Commandement_quitter", None, 5), timer("Deux_mois")), avocat=True),
    Case("IMP-2026-0125", "Laurence Guérin", "14 rue Saint-Lubin, 41000 Blois", 6_900.00, 690.00,
         "expulsion", 100, manager="karim", avocat=True,
         steps=(do("Commandement_quitter", None, 4), event("delais_accordes", {"months": 1}, 10),
                do("Suivre_delais", "expired", 35))),
    # --- S5 Plan d'apurement ---
    Case("IMP-2026-0126", "Émilie Robin", "22 rue de la Paix, 37000 Tours", 1_860.00, 620.00,
         "plan_apurement", 340, extra={"installments": 12, "installment_amount": 155.00},
         steps=(do("Formaliser_plan", None, 3),
                *[step for _ in range(10) for step in (timer("Echeance_mensuelle"),
                                                       do("Controler_echeance", "paid", 2))])),
    Case("IMP-2026-0127", "Marc Lemoine", "8 rue Bretonneau, 37000 Tours", 1_420.00, 710.00,
         "plan_apurement", 40, manager="karim", extra={"installments": 6, "installment_amount": 236.70},
         steps=(do("Formaliser_plan", None, 2), timer("Echeance_mensuelle"),
                do("Controler_echeance", "missed", 3))),
    Case("IMP-2026-0128", "Chantal Faure", "5 rue du Petit-Pont, 45000 Orléans", 2_280.00, 570.00,
         "plan_apurement", 70, extra={"installments": 10, "installment_amount": 228.00},
         steps=(do("Formaliser_plan", None, 3), timer("Echeance_mensuelle"),
                do("Controler_echeance", "paid", 2),
                event("surendettement_recevable", {"commission": "Loiret"}, 10))),
    Case("IMP-2026-0129", "Jérôme Brunet", "17 rue Porte-Côté, 41000 Blois", 720.00, 600.00,
         "plan_apurement", 120, manager="karim", extra={"installments": 3, "installment_amount": 240.00},
         steps=(do("Formaliser_plan", None, 2),
                timer("Echeance_mensuelle"), do("Controler_echeance", "paid", 2),
                timer("Echeance_mensuelle"), do("Controler_echeance", "paid", 2),
                timer("Echeance_mensuelle"), do("Controler_echeance", "last_paid", 2))),
    Case("IMP-2026-0130", "Aurélie Masson", "40 rue Nationale, 37000 Tours", 2_010.00, 670.00,
         "plan_apurement", 8, steps=(do("Formaliser_plan", None, 1),), guarantor="Gérard Masson",
         extra={"installments": 24, "installment_amount": 83.75}),
]


PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,49}")


def _prefix(_context, _parameter, value: str) -> str:
    if value and not PREFIX.fullmatch(value):
        raise click.BadParameter("une lettre ou « _ » d'abord, puis lettres, chiffres, « _ » ou « - » "
                                 "(50 caractères au plus), par exemple demo_")
    return value


@click.command("demo")
@click.option("--prefix", default="", callback=_prefix,
              help="Load the library under prefixed keys (e.g. demo_), next to sequences of the same keys.")
@with_appcontext
def demo_command(prefix):
    """Load the demo: users, partners, dossiers and the rent-arrears library, published (idempotent)."""
    now = clock_now()
    library = library_files(prefix)
    said: list[str] = []  # printed once committed
    try:
        with _one_transaction() as session:
            analyst = session.scalar(select(accounts.User).where(accounts.User.email == ANALYST))
            _refuse_foreign(session, library, analyst, prefix)
            users = _users(session, now, said)
            # The letters before the sequences: a sequence is published only once its templates exist.
            created = ensure_templates(session, Actor(user_id=users["analyst"].id), now)
            said.append(f"Modèles de communication : {created} créé(s), "
                        f"{len(TEMPLATES) - created} déjà présent(s).")
            # The words before the sequences: every role, field, event and outcome they name has its label.
            words = ensure_dictionary(session, users["analyst"].id, now)
            said.append(f"Dictionnaire : {words} entrée(s) ajoutée(s) ou nommée(s).")
            _library(session, library, users["analyst"], now, said)
            created = 0
            for case in CASES:
                if session.scalar(select(Dossier.id).where(Dossier.reference == case.reference)):
                    continue
                _load_case(session, case, users, prefix, now)
                created += 1
    except DomainError as error:
        raise click.ClickException(error.message) from error
    said.append(f"Dossiers : {created} créé(s), {len(CASES) - created} déjà présent(s).")
    click.echo("\n".join(said))
    click.echo(f"\nComptes de démonstration (mot de passe pour tous : {PASSWORD}) :")
    for key, email, name, _kind, _role in USERS:
        click.echo(f"  {email:<32} {name} — {ROLES_OF[key]}")


@contextmanager
def _one_transaction() -> Iterator[Session]:
    """A session in one database transaction, committed at the end or rolled back on any error. The commits
    made within it (the letters' delivery commits its own steps, as in the worker) release savepoints."""
    with db.engine.connect() as connection, connection.begin():
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
            session.commit()
        except BaseException:
            engine_cache.clear()  # engines of runs that will not exist once rolled back
            raise
        finally:
            session.close()


def _users(session, now: datetime, said: list[str]) -> dict:
    found = {}
    for key, email, name, kind, role in USERS:
        user = session.scalar(select(accounts.User).where(accounts.User.email == email))
        if user is None:
            user = accounts.create_user(session, email=email, name=name, kind=kind, role=role,
                                        password=PASSWORD, now=now)
            said.append(f"Utilisateur {email} créé.")
        found[key] = user
    return found


# --- Library -----------------------------------------------------------------------------------------------


def library_files(prefix: str = "") -> dict[str, bytes]:
    """The library's files by key. With a prefix, every key is prefixed, in the process id and wherever a
    file names another sequence of the library; without one, the files are taken byte for byte (so that the
    versions the demo published before are recognised by their checksum)."""
    files = {}
    for path in sorted(LIBRARY.glob("*.bpmn")):
        data = path.read_bytes()
        files[read_model(parse_xml(data)).key] = data
    if not prefix:
        return files
    return {prefix + key: _prefixed(data, set(files), prefix) for key, data in files.items()}


def _prefixed(data: bytes, keys: set[str], prefix: str) -> bytes:
    root = parse_xml(data)
    for element in root.iter():
        if local(element) == "process" and element.get("id") in keys:
            element.set("id", prefix + element.get("id"))
        for name in REFERENCES:
            if ref(element.get(name)) in keys:
                element.set(name, prefix + ref(element.get(name)))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _refuse_foreign(session, library: dict[str, bytes], analyst, prefix: str) -> None:
    """Refuses, before anything is written, a database whose sequences of the library's keys are not the
    demo's. A sequence is the demo's when one of its versions is the library's file byte for byte, or when
    the demo's analyst published its first version (the library's files may have changed since)."""
    foreign = []
    for key, data in library.items():
        sequence = session.scalar(select(Sequence).where(Sequence.key == key))
        if sequence is None:
            continue
        checksum = hashlib.sha256(data).hexdigest()
        first = sequence.versions[0] if sequence.versions else None
        if any(v.checksum == checksum for v in sequence.versions) or (
                first is not None and analyst is not None and first.published_by == analyst.id):
            continue
        foreign.append(key)
    if foreign:
        names = ", ".join(f"« {key} »" for key in foreign)
        which = (f"La séquence {names} de cette base n'est pas celle" if len(foreign) == 1
                 else f"Les séquences {names} de cette base ne sont pas celles")
        remedy = (f"avec un autre préfixe que « {prefix} »" if prefix
                  else "sous d'autres clés avec « sequences demo --prefix demo_ »")
        raise Conflict(f"{which} de la démonstration : rien n'a été écrit ; chargez la démonstration dans "
                       f"une base vide, ou {remedy}.")


def _library(session, library: dict[str, bytes], analyst, now: datetime, said: list[str]) -> None:
    published = services.published_keys(session)
    keys = []
    for key, data in library.items():
        if key in published:
            continue  # the demo's, already published: an analyst's later versions and drafts are left alone
        services.save_draft(session, data, analyst.id, now)
        keys.append(key)
    if keys:
        for version in publish_versions(session, keys, analyst.id, now):
            said.append(f"Séquence « {version.key} » publiée en version {version.number}.")
    else:
        said.append("Bibliothèque : les cinq séquences sont déjà publiées.")


def ensure_templates(session, actor: Actor, now: datetime) -> int:
    """Creates the library's communication templates that do not exist yet; returns how many."""
    created = 0
    for key, (name, subject, body) in TEMPLATES.items():
        if templates.latest(session, key) is None:
            templates.create_template(session, actor, now, key=key, channel="letter", subject=subject,
                                      body=body, name=name)
            created += 1
    return created


# --- Dossiers ---------------------------------------------------------------------------------------------


def _load_case(session, case: Case, users: dict, prefix: str, now: datetime) -> Dossier:
    start = now - timedelta(days=case.started_days_ago)
    manager = users[case.manager]
    other = users["karim" if case.manager == "claire" else "claire"]
    actor = Actor(user_id=manager.id)
    data = {"tenant": case.tenant, "address": case.address, "landlord": case.extra.get("landlord", LANDLORD),
            "landlord_kind": case.landlord_kind, "balance": case.balance, "monthly_rent": case.rent,
            "caf_beneficiary": case.caf, "has_guarantor": case.guarantor is not None,
            **{k: v for k, v in case.extra.items() if k != "landlord"}}
    if case.hearing_in_days is not None:
        data["hearing_date"] = (now + timedelta(days=case.hearing_in_days)).date().isoformat()
    title = f"{case.tenant} — impayés de loyer"
    dossier = dossier_service.create_dossier(session, actor, case.reference, title, data, start)
    add = dossier_service.add_participant
    add(session, dossier, actor, start, kind="internal", name=manager.name, email=manager.email,
        user_id=manager.id, roles=["gestionnaire"])
    add(session, dossier, actor, start, kind="internal", name=other.name, email=other.email, user_id=other.id,
        roles=["comptable", "responsable_contentieux"])
    street, city = case.address.split(", ")
    department = DEPARTMENTS[city[:2]]
    add(session, dossier, actor, start, kind="contact", name=case.tenant, email=_email(case.tenant),
        phone="06 12 34 56 78", address=f"{street}\n{city}", roles=["locataire"])
    if case.guarantor:
        add(session, dossier, actor, start, kind="contact", name=case.guarantor, email=_email(case.guarantor),
            address=f"8 rue des Lilas\n{city}", roles=["caution"])
    if case.caf:
        add(session, dossier, actor, start, kind="contact", name=f"CAF {department[0]}",
            email=f"impayes.{city[:2]}@caf.example.fr", address=f"Service des impayés\n{city}", roles=["caf"])
    add(session, dossier, actor, start, kind="contact", name=f"CCAPEX {department[0]}",
        email=f"ccapex.{city[:2]}@example.fr", roles=["ccapex"],
        address=f"Secrétariat de la CCAPEX\nPréfecture, {department[1]}")
    add(session, dossier, actor, start, kind="contact", name=f"Préfecture {department[0]}",
        email=f"expulsions.{city[:2]}@example.fr", roles=["prefecture"],
        address=f"Bureau des expulsions locatives\n{department[1]}")
    if case.commissaire:
        garnier = users["garnier"]
        add(session, dossier, actor, start, kind="partner", name="Étude Garnier, commissaires de justice",
            email=garnier.email, user_id=garnier.id, roles=["commissaire_justice"])
    if case.avocat:
        roux = users["roux"]
        add(session, dossier, actor, start, kind="partner", name="Cabinet Roux, avocats", email=roux.email,
            user_id=roux.id, roles=["avocat"])
    launch_run(session, dossier.id, actor, start, sequence=prefix + case.sequence,
               allow_unassigned=case.allow_unassigned)
    story = _Story(session, dossier, users, manager, other, start, now)
    story.communications()
    for step in case.steps:
        story.apply(step)
    return dossier


def _email(name: str) -> str:
    simple = name.lower().translate(str.maketrans("éèêëàâîïôöûüç", "eeeeaaiioouuc"))
    return simple.replace(" ", ".").replace("'", "") + "@example.fr"


class _Story:
    """Applies a case's steps at dates in the past, as the people and the system would have."""

    def __init__(self, session, dossier: Dossier, users: dict, manager, other, start: datetime,
                 now: datetime):
        self.session, self.dossier, self.users = session, dossier, users
        self.by_role = {"gestionnaire": manager, "comptable": other, "responsable_contentieux": other,
                        "commissaire_justice": users["garnier"], "avocat": users["roux"]}
        self.manager = manager
        self.when, self.now = start, now

    def apply(self, step: tuple) -> None:
        kind = step[0]
        if kind == "do":
            _, element, outcome, days = step
            self._advance(days)
            action = self._open_action(element)
            status = ActionStatus.VALIDATED if action.type == ActionType.VALIDATION else ActionStatus.DONE
            user = self.by_role.get(action.role, self.manager)
            if not any(h.participant.user_id == user.id for h in action.run.holders if h.role == action.role):
                user = self.manager  # nobody holds the role: the case manager acts instead
            actor = Actor(user_id=user.id, is_partner=user.is_partner)
            complete_action(self.session, action.id, actor, status, outcome, None, self.when)
        elif kind == "timer":
            found = self._pending_timer(step[1])
            self.when = max(self.when, found.due_at)
            self._check_past()
            fire_timer(self.session, found.id, self.when)
        elif kind == "event":
            _, name, data, days = step
            self._advance(days)
            post_event(self.session, self.dossier.id, Actor(user_id=self.manager.id), name, data, self.when)
        elif kind == "data":
            _, data, days = step
            self._advance(days)
            dossier_service.update_dossier(self.session, self.dossier, Actor(user_id=self.manager.id),
                                           self.when, data=data)
        self.communications()

    def communications(self) -> None:
        """Letters reached by the story go out as the worker would send them, at the story's date."""
        self.session.commit()
        for _ in range(10):  # a letter sent can lead to the next send task: deliver until nothing moves
            done = deliver_pending(self.session, self.when, {})
            if not (done.claimed or done.resolved):
                break

    def _advance(self, days: float) -> None:
        self.when += timedelta(days=days)
        self._check_past()

    def _check_past(self) -> None:
        if self.when >= self.now:
            raise Conflict(f"{self.dossier.reference} : étape datée du {self.when:%d/%m/%Y}, après "
                           "aujourd'hui ; rien n'a été écrit.")

    def _open_action(self, element: str) -> Action:
        found = self._open(Action.element_id == element)
        if len(found) != 1:
            raise Conflict(f"{self.dossier.reference} : {len(found)} action(s) {element} ouverte(s) au lieu "
                           "d'une dans la dernière version de sa séquence ; rien n'a été écrit.")
        return found[0]

    def _open(self, condition) -> list[Action]:
        query = (select(Action).join(Run)
                 .where(Run.dossier_id == self.dossier.id, Run.status == RunStatus.RUNNING,
                        Action.status == ActionStatus.OPEN, condition)
                 .order_by(Action.id))
        return list(self.session.scalars(query))

    def _pending_timer(self, element: str) -> Timer:
        found = self.session.scalars(
            select(Timer).join(Run).where(Run.dossier_id == self.dossier.id, Run.status == RunStatus.RUNNING,
                                          Timer.element_id == element, Timer.fired_at.is_(None),
                                          Timer.cancelled_at.is_(None))).all()
        if len(found) != 1:
            raise Conflict(f"{self.dossier.reference} : {len(found)} délai(s) {element} en attente au lieu "
                           "d'un dans la dernière version de sa séquence ; rien n'a été écrit.")
        return found[0]
