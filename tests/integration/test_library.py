"""The rent-arrears library (web/demo_library) driven through the API, on SQLite and PostgreSQL, and the
`sequences demo` command.

Each scenario walks one sequence along its main paths: outcomes and business events through the API, timers
fired from their Timer rows with the test clock, letters delivered by the communications worker's function.
Switches (endEvent seq:next) must land in the right sequence with the same role holders.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from lxml import etree
from sqlalchemy import func, select

from bpmn.durations import end_of, start_of
from bpmn.validation import validate
from designer.services import publish_versions
from runtime.actors import Actor
from runtime.delivery import deliver_pending
from runtime.events import fire_timer
from runtime.models import Run, RunStatus, Timer
from tests.integration.pilot import Pilot
from web.demo import LIBRARY, TEMPLATES, ensure_templates

KEYS = ["relance_amiable", "precontentieux", "contentieux", "expulsion", "plan_apurement"]
FILES = sorted(LIBRARY.glob("*.bpmn"))
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI", "di": "http://www.omg.org/spec/DD/20100524/DI"}


class Library(Pilot):
    """The Pilot plus what these scenarios need: the running run, letters, timers."""

    def __init__(self, client, users, session, clock):
        super().__init__(client, users)
        self.session, self.clock = session, clock

    def install(self):
        for path in FILES:
            saved = self.call("POST", "/sequences", who="analyst", data=path.read_bytes(),
                              headers={"Content-Type": "application/xml"})
            assert saved["issues"] == [], saved
        ensure_templates(self.session, Actor(user_id=self.users["analyst"].id), self.clock.now())
        publish_versions(self.session, KEYS, self.users["analyst"].id, self.clock.now())
        self.session.commit()

    def case(self, reference="IMP-1", **data):
        fields = {"tenant": "Julie Moreau", "balance": 1300, "monthly_rent": 650, "caf_beneficiary": True,
                  "has_guarantor": True, "landlord_kind": "personne_morale", **data}
        dossier = self.dossier(reference, fields)
        people = {
            "manager": self.participant(dossier["id"], "internal", "Gestionnaire",
                                        ["gestionnaire", "comptable", "responsable_contentieux"],
                                        user="manager"),
            "commissaire": self.participant(dossier["id"], "partner", "Étude Garnier",
                                            ["commissaire_justice"], user="partner"),
            "avocat": self.participant(dossier["id"], "partner", "Cabinet Roux", ["avocat"], user="partner2"),
        }
        for name, role in [("Julie Moreau", "locataire"), ("Bernard Moreau", "caution"), ("CAF", "caf"),
                           ("CCAPEX", "ccapex"), ("Préfecture", "prefecture")]:
            body = {"kind": "contact", "name": name, "roles": [role], "email": f"{role}@example.test",
                    "address": "1 rue Nationale\n37000 Tours"}
            people[role] = self.call("POST", f"/dossiers/{dossier['id']}/participants", json=body, expect=201)
        dossier["people"] = people
        return dossier

    def start(self, dossier, sequence):
        run = self.launch(dossier["id"], sequence)
        self.send()
        return run

    def send(self):
        """What the worker does for letters: send them, then complete their send task."""
        for _ in range(10):
            done = deliver_pending(self.session, self.clock.now(), {})
            if not (done.claimed or done.resolved):
                return

    def current(self, dossier):
        runs = self.call("GET", f"/dossiers/{dossier['id']}", expect=200)["runs"]
        running = [r for r in runs if r["status"] == "running"]
        assert len(running) == 1, runs
        return self.run(running[0]["id"])

    def do(self, dossier, element, outcome=None, who="manager", status="done", days=0):
        self.clock.advance(days=days)
        action = self.only_action(self.current(dossier)["id"], element)
        answer = self.complete(action["id"], status, outcome, who=who)
        self.send()
        return answer

    def event(self, dossier, name, data=None, days=0):
        self.clock.advance(days=days)
        answer = self.call("POST", f"/dossiers/{dossier['id']}/events", json={"name": name, "data": data},
                           expect=202)
        self.send()
        return answer

    def timer(self, dossier, element):
        run = self.current(dossier)
        self.session.expire_all()
        query = select(Timer).where(Timer.run_id == run["id"], Timer.element_id == element,
                                    Timer.fired_at.is_(None), Timer.cancelled_at.is_(None))
        [found] = self.session.scalars(query).all()
        return found

    def fire(self, dossier, element):
        found = self.timer(dossier, element)
        self.clock.at = max(self.clock.now(), found.due_at)
        assert fire_timer(self.session, found.id, self.clock.now())
        self.session.commit()
        self.send()

    def holders(self, run):
        return {role: [h["participant_id"] for h in held] for role, held in run["roles"].items()}

    def switched_to(self, dossier, old, sequence):
        """The old run ended by its seq:next into `sequence`, carrying its role holders."""
        before = self.run(old["id"])
        assert before["status"] == "switched", before
        new = self.run(before["next_run_id"])
        assert new["sequence"] == sequence and new["started_by"] == "system:sequence"
        assert new["previous_run_id"] == old["id"]
        for role, ids in self.holders(before).items():
            if role in new["roles"]:
                assert self.holders(new)[role] == ids, role
        return new

    def letters(self, dossier):
        return self.call("GET", f"/dossiers/{dossier['id']}/communications", expect=200)


@pytest.fixture
def lib(client, users, session, clock):
    library = Library(client, users, session, clock)
    library.install()
    return library


# --- Publication ----------------------------------------------------------------------------------------


def test_every_file_validates_without_issue_and_has_a_full_diagram(pilot_users_client):
    pilot = pilot_users_client
    assert [path.name for path in FILES] == [
        "s1_relance_amiable.bpmn", "s2_precontentieux.bpmn", "s3_contentieux.bpmn", "s4_expulsion.bpmn",
        "s5_plan_apurement.bpmn"]
    for path in FILES:
        data = path.read_bytes()
        # Once the five and their letters are known, nothing is left to fix; alone, only the switches to the
        # others and the templates (not created yet) are unknown.
        assert validate(data, set(KEYS), dict.fromkeys(TEMPLATES, "letter")).issues == [], path.name
        answer = pilot.call("POST", "/sequences/validate", who="analyst", data=data,
                            headers={"Content-Type": "application/xml"}, expect=200)
        codes = {issue["code"] for issue in answer["issues"]}
        assert codes <= {"next_sequence_unknown", "unknown_template"}, (path.name, answer)
        root = etree.fromstring(data)
        [process] = root.findall("bpmn:process", NS)
        assert process.get("id") in KEYS and process.get("isExecutable") == "true"
        drawn = {shape.get("bpmnElement") for shape in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
        edges = {edge.get("bpmnElement"): edge for edge in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
        kinds = ("startEvent", "endEvent", "userTask", "sendTask", "exclusiveGateway", "eventBasedGateway",
                 "intermediateCatchEvent", "boundaryEvent", "lane")
        nodes = [e for e in process.iter() if isinstance(e.tag, str) and etree.QName(e).localname in kinds]
        assert {n.get("id") for n in nodes} <= drawn, path.name
        assert root.find("bpmn:collaboration/bpmn:participant", NS).get("id") in drawn
        for flow in process.iter(f"{{{NS['bpmn']}}}sequenceFlow"):
            assert len(edges[flow.get("id")].findall("di:waypoint", NS)) >= 2, flow.get("id")
        for task in process.iter(f"{{{NS['bpmn']}}}sendTask"):
            assert task.get("{urn:sequences:bpmn:1}template") in TEMPLATES


def test_the_five_publish_together_with_zero_issues(lib, session):
    from designer.services import latest_version

    assert [latest_version(session, key).number for key in KEYS] == [1, 1, 1, 1, 1]
    for key in KEYS:
        assert lib.call("GET", f"/sequences/{key}/versions/1", who="analyst", expect=200) is None  # XML body


def test_sequences_import_publishes_the_library(app, session, users, clock):
    from web.cli import import_files

    # The letters first: a sequence is published only once the templates it names exist.
    ensure_templates(session, Actor(user_id=users["analyst"].id), clock.now())
    session.commit()
    # S2 and S5 switch into each other: only a batch can publish them.
    result = app.test_cli_runner().invoke(import_files, [*map(str, FILES), "--publish"])
    assert result.exit_code == 0, result.output
    assert result.output.count("publiée en version 1") == 5


@pytest.fixture
def pilot_users_client(client, users):
    return Pilot(client, users)


# --- S1 Relance amiable ---------------------------------------------------------------------------------


def test_s1_paid_after_the_reminder_ends_the_run(lib):
    dossier = lib.case()
    run = lib.start(dossier, "relance_amiable")
    assert [c["status"] for c in lib.letters(dossier)] == ["sent"]
    call = lib.only_action(run["id"], "Suivre_relance")
    assert call["due_at"].startswith("2026-03-10")  # P8D
    assert lib.do(dossier, "Suivre_relance", "paid", days=3)["run"]["status"] == "completed"


def test_s1_promise_switches_to_the_payment_plan(lib):
    dossier = lib.case()
    run = lib.start(dossier, "relance_amiable")
    lib.do(dossier, "Suivre_relance", "promise", days=2)
    plan = lib.switched_to(dossier, run, "plan_apurement")
    assert [a["element_id"] for a in plan["open_actions"]] == ["Formaliser_plan"]


def test_s1_silence_leads_to_the_formal_notice_then_to_the_payment_order(lib):
    dossier = lib.case(balance=1300, monthly_rent=650)
    run = lib.start(dossier, "relance_amiable")
    # P3W (practice: calendar days): fires when 23 March is over in Paris
    assert lib.timer(dossier, "Relance_sans_reponse").due_at == start_of(date(2026, 3, 24))
    lib.fire(dossier, "Relance_sans_reponse")
    # Two months of rent owed to a CAF beneficiary: the CAF is told; the guarantor gets a copy.
    sent = [(c["channel"], c["recipient"], c["status"]) for c in lib.letters(dossier)]
    assert [to for _, to, _ in sent] == ["Julie Moreau", "CAF", "Julie Moreau", "Bernard Moreau"]
    assert {status for _, _, status in sent} == {"sent"}
    follow = lib.only_action(run["id"], "Suivre_mise_en_demeure")
    assert follow["role"] == "gestionnaire" and follow["due_at"].startswith("2026-03-31")
    lib.fire(dossier, "Mise_en_demeure_expiree")
    s2 = lib.switched_to(dossier, run, "precontentieux")
    assert lib.holders(s2)["commissaire_justice"] == [dossier["people"]["commissaire"]["id"]]
    assert [a["element_id"] for a in s2["open_actions"]] == ["Mandater_commissaire"]


def test_s1_partial_payment_during_the_notice_goes_to_the_payment_order(lib):
    dossier = lib.case(caf_beneficiary=False, has_guarantor=False)
    run = lib.start(dossier, "relance_amiable")
    lib.do(dossier, "Suivre_relance", "no_answer", days=5)
    # Neither CAF nor guarantor: the reminder and the formal notice only.
    assert [c["recipient"] for c in lib.letters(dossier)] == ["Julie Moreau", "Julie Moreau"]
    assert lib.event(dossier, "paiement_recu", {"amount": 300}, days=2)["delivered_to"] == [run["id"]]
    match = lib.only_action(run["id"], "Rapprocher_paiement")
    assert match["role"] == "comptable"
    lib.do(dossier, "Rapprocher_paiement", "partial")
    lib.switched_to(dossier, run, "precontentieux")


# --- S2 Précontentieux ----------------------------------------------------------------------------------


def test_s2_six_weeks_after_service_switch_to_the_court_summons(lib):
    dossier = lib.case()
    run = lib.start(dossier, "precontentieux")
    mandate = lib.only_action(run["id"], "Mandater_commissaire")
    assert mandate["due_at"].startswith("2026-03-09")  # 5 working days from Monday 2 March
    lib.do(dossier, "Mandater_commissaire", days=1)
    lib.do(dossier, "Signifier_commandement", "not_found", who="partner", days=4)
    lib.do(dossier, "Rechercher_adresse", days=3)
    served = lib.do(dossier, "Signifier_commandement", "served", who="partner", days=2)
    served_at = datetime.fromisoformat(served["action"]["completed_at"])
    guarantor = lib.only_action(run["id"], "Signifier_caution")
    # P15D, délai de procédure: from Thursday 12 March, the last day is Friday 27 March
    assert served_at.date() == date(2026, 3, 12)
    assert guarantor["due_at"] == end_of(date(2026, 3, 27)).isoformat()
    assert guarantor["due_note"]["fr"] == (
        "15 jours à compter du 12 mars 2026 : vendredi 27 mars 2026 (jour de départ non compté, art. 641 CPC)"
    )
    assert lib.call("GET", "/actions?mine=true&status=open", who="partner")[0]["id"] == guarantor["id"]
    lib.do(dossier, "Signifier_caution", who="partner", days=10)
    assert [c["recipient"] for c in lib.letters(dossier)] == ["CCAPEX"]  # a corporate landlord refers itself
    assert lib.run(run["id"])["waiting_events"] == ["paiement_recu", "plan_accepte"]
    assert lib.timer(dossier, "Six_semaines").due_at == start_of(date(2026, 4, 24))  # 6 weeks, 23 April over
    # A partial payment is matched, then the wait goes on towards the same legal date.
    lib.event(dossier, "paiement_recu", {"amount": 200}, days=3)
    lib.do(dossier, "Rapprocher_paiement", "partial")
    assert lib.timer(dossier, "Six_semaines").due_at == start_of(date(2026, 4, 24))  # 6 weeks, 23 April over
    lib.fire(dossier, "Six_semaines")
    s3 = lib.switched_to(dossier, run, "contentieux")
    assert lib.holders(s3)["avocat"] == [dossier["people"]["avocat"]["id"]]


def test_s2_accepted_plan_and_private_landlord(lib):
    dossier = lib.case(landlord_kind="personne_physique", has_guarantor=False)
    run = lib.start(dossier, "precontentieux")
    lib.do(dossier, "Mandater_commissaire")
    lib.do(dossier, "Signifier_commandement", "served", who="partner", days=5)
    lib.do(dossier, "Signaler_ccapex", who="partner", days=1)  # the commissaire signals it
    assert lib.letters(dossier) == []
    lib.event(dossier, "plan_accepte", {"installments": 10}, days=7)
    lib.switched_to(dossier, run, "plan_apurement")


# --- S3 Contentieux -------------------------------------------------------------------------------------


def test_s3_hearing_deadline_adjournment_and_eviction_order(lib):
    dossier = lib.case()
    run = lib.start(dossier, "contentieux")
    lib.do(dossier, "Preparer_assignation", days=1)
    lib.do(dossier, "Valider_engagement", "go", status="validated")
    draft = lib.only_action(run["id"], "Rediger_assignation")
    assert draft["due_at"].startswith("2026-03-17")  # 10 working days from Tuesday 3 March
    assert lib.timer(dossier, "Avocat_en_retard").due_at.date().isoformat() == "2026-03-24"  # 15 working days
    lib.fire(dossier, "Avocat_en_retard")
    lib.do(dossier, "Relancer_avocat")
    lib.do(dossier, "Rediger_assignation", who="partner2", days=3)
    # No hearing date in the dossier yet: the case manager records it first.
    lib.call("PATCH", f"/dossiers/{dossier['id']}", json={"data": {"hearing_date": "2026-05-20"}}, expect=200)
    lib.do(dossier, "Saisir_date_audience")
    assert lib.timer(dossier, "Delai_prefet").due_at == start_of(date(2026, 4, 8))  # 6 weeks before
    # The préfet was not notified in time: the hearing is moved, the new date recorded, service again.
    lib.fire(dossier, "Delai_prefet")
    lib.do(dossier, "Obtenir_renvoi")
    lib.call("PATCH", f"/dossiers/{dossier['id']}", json={"data": {"hearing_date": "2026-07-01"}}, expect=200)
    lib.do(dossier, "Saisir_date_audience")
    assert lib.timer(dossier, "Delai_prefet").due_at == start_of(date(2026, 5, 20))
    lib.do(dossier, "Signifier_assignation", who="partner", days=2)
    lib.do(dossier, "Diagnostic", days=5)
    lib.do(dossier, "Audience", "adjourned", who="partner2", days=30)
    lib.do(dossier, "Noter_renvoi")
    lib.do(dossier, "Audience", "eviction_ordered", who="partner2", days=30)
    lib.do(dossier, "Signifier_jugement", who="partner", days=5)
    s4 = lib.switched_to(dossier, run, "expulsion")
    assert [a["element_id"] for a in s4["open_actions"]] == ["Commandement_quitter"]
    assert lib.holders(s4)["commissaire_justice"] == [dossier["people"]["commissaire"]["id"]]


def test_s3_time_to_pay_and_rejection(lib):
    granted = lib.case("IMP-1", hearing_date="2026-06-15")
    run = lib.start(granted, "contentieux")
    for element, outcome, who, status in [("Preparer_assignation", None, "manager", "done"),
                                          ("Valider_engagement", "go", "manager", "validated"),
                                          ("Rediger_assignation", None, "partner2", "done"),
                                          ("Signifier_assignation", None, "partner", "done"),
                                          ("Diagnostic", None, "manager", "done"),
                                          ("Audience", "time_granted", "partner2", "done")]:
        lib.do(granted, element, outcome, who=who, status=status, days=1)
    lib.switched_to(granted, run, "plan_apurement")
    rejected = lib.case("IMP-2", hearing_date="2026-06-15")
    run = lib.start(rejected, "contentieux")
    lib.do(rejected, "Preparer_assignation")
    assert lib.do(rejected, "Valider_engagement", "no_go", status="validated")["run"]["status"] == "completed"


# --- S4 Expulsion ---------------------------------------------------------------------------------------


def test_s4_no_eviction_during_the_winter_truce_then_the_prefect_stays_silent(lib, clock):
    dossier = lib.case()
    run = lib.start(dossier, "expulsion")
    lib.do(dossier, "Commandement_quitter", who="partner", days=2)
    assert [c["recipient"] for c in lib.letters(dossier)] == ["Julie Moreau"]
    assert lib.timer(dossier, "Deux_mois").due_at == start_of(date(2026, 5, 5))  # P2M: Monday 4 May is over
    # The judge grants more time; it runs out on 15 November, inside the truce.
    lib.event(dossier, "delais_accordes", {"until": "2026-11-15"}, days=20)
    clock.at = datetime(2026, 11, 15, 9, tzinfo=UTC)
    lib.do(dossier, "Suivre_delais", "expired")
    assert lib.run(run["id"])["open_actions"] == []
    assert lib.timer(dossier, "Fin_treve").due_at == start_of(date(2027, 4, 1))
    lib.fire(dossier, "Fin_treve")
    lib.do(dossier, "Tenter_expulsion", "refused", who="partner", days=3)
    lib.do(dossier, "Valider_concours", status="validated")
    lib.do(dossier, "Requerir_concours", who="partner", days=1)
    assert lib.run(run["id"])["waiting_events"] == ["concours_accorde", "concours_refuse"]
    lib.fire(dossier, "Silence_prefet")  # 2 months of silence mean refusal
    assert lib.run(run["id"])["status"] == "completed"
    assert [c["recipient"] for c in lib.letters(dossier)][-1] == "Préfecture"


def test_s4_out_of_the_truce_the_eviction_happens_with_the_police(lib, clock):
    dossier = lib.case()
    run = lib.start(dossier, "expulsion")
    lib.do(dossier, "Commandement_quitter", who="partner")
    lib.fire(dossier, "Deux_mois")  # 4 May: no truce
    lib.do(dossier, "Tenter_expulsion", "refused", who="partner", days=3)
    lib.do(dossier, "Valider_concours", status="validated")
    lib.do(dossier, "Requerir_concours", who="partner")
    lib.event(dossier, "concours_accorde", days=20)
    lib.do(dossier, "Expulser", who="partner", days=5)
    assert lib.do(dossier, "Reprendre_logement")["run"]["status"] == "completed"
    assert lib.run(run["id"])["status"] == "completed"


@pytest.mark.parametrize(("served", "fires", "waits_for_the_truce"), [
    # 2 months end on Tuesday 30 March: the timer fires on 31 March, still in the truce
    (date(2027, 1, 30), date(2027, 3, 31), True),
    # 2 months end on Wednesday 31 March: the timer fires on 1 April, the truce is over
    (date(2027, 1, 31), date(2027, 4, 1), False),
    # 2 months end on Saturday 31 October, extended past All Saints' Day to Monday 2 November (art. 642)
    (date(2026, 8, 31), date(2026, 11, 3), True),
])
def test_s4_two_months_to_leave_around_the_truce(lib, clock, served, fires, waits_for_the_truce):
    dossier = lib.case()
    run = lib.start(dossier, "expulsion")
    clock.at = datetime.combine(served, datetime.min.time(), UTC) + timedelta(hours=10)
    lib.do(dossier, "Commandement_quitter", who="partner")
    assert lib.timer(dossier, "Deux_mois").due_at == start_of(fires)
    lib.fire(dossier, "Deux_mois")
    opened = [a["element_id"] for a in lib.run(run["id"])["open_actions"]]
    if waits_for_the_truce:
        assert opened == []
        assert lib.timer(dossier, "Fin_treve").due_at == start_of(date(2027, 4, 1))
        lib.fire(dossier, "Fin_treve")
    assert [a["element_id"] for a in lib.run(run["id"])["open_actions"]] == ["Tenter_expulsion"]


# --- S5 Plan d'apurement --------------------------------------------------------------------------------


def test_s5_monthly_loop_runs_two_years_then_ends(lib, session):
    dossier = lib.case()
    run = lib.start(dossier, "plan_apurement")
    lib.do(dossier, "Formaliser_plan", days=1)
    assert [c["recipient"] for c in lib.letters(dossier)] == ["Julie Moreau"]
    dues = []
    for month in range(24):
        dues.append(lib.timer(dossier, "Echeance_mensuelle").due_at)
        lib.fire(dossier, "Echeance_mensuelle")
        lib.do(dossier, "Controler_echeance", "last_paid" if month == 23 else "paid", days=1)
    assert dues[0] == start_of(date(2026, 4, 4)) and dues[1] == start_of(date(2026, 5, 5))
    assert lib.run(run["id"])["status"] == "completed"
    assert session.scalar(select(func.count()).select_from(Timer).where(Timer.run_id == run["id"])) == 24


def test_s5_missed_installment_grace_payment_then_broken_plan(lib):
    dossier = lib.case()
    run = lib.start(dossier, "plan_apurement")
    lib.do(dossier, "Formaliser_plan")
    lib.fire(dossier, "Echeance_mensuelle")
    lib.do(dossier, "Controler_echeance", "missed", days=2)
    assert [c["recipient"] for c in lib.letters(dossier)] == ["Julie Moreau", "Julie Moreau"]
    lib.event(dossier, "paiement_recu", {"amount": 150}, days=3)  # paid within the grace days
    lib.fire(dossier, "Echeance_mensuelle")
    lib.do(dossier, "Controler_echeance", "missed", days=2)
    lib.fire(dossier, "Grace_expiree")
    lib.do(dossier, "Decider_suite", "to_contentieux")
    lib.switched_to(dossier, run, "contentieux")


def test_s5_over_indebtedness_pauses_the_plan(lib):
    dossier = lib.case()
    run = lib.start(dossier, "plan_apurement")
    lib.do(dossier, "Formaliser_plan")
    lib.event(dossier, "surendettement_recevable", {"commission": "Indre-et-Loire"}, days=10)
    lib.do(dossier, "Suivre_surendettement", "resume", days=60)
    assert lib.run(run["id"])["waiting_events"] == ["surendettement_recevable"]
    lib.fire(dossier, "Echeance_mensuelle")
    lib.do(dossier, "Controler_echeance", "missed")
    lib.fire(dossier, "Grace_expiree")
    lib.do(dossier, "Decider_suite", "to_expulsion")
    lib.switched_to(dossier, run, "expulsion")


# --- sequences demo -------------------------------------------------------------------------------------


def _counts(session):
    from designer.models import SequenceVersion, TemplateVersion
    from kernel.accounts import User
    from runtime.communications.models import Communication
    from runtime.journal import JournalEntry
    from runtime.models import Action, Dossier, Participant

    return {model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (User, SequenceVersion, TemplateVersion, Dossier, Participant, Run, Action, Timer,
                          Communication, JournalEntry)}


def test_demo_twice_duplicates_nothing(app, session, tmp_path, monkeypatch):
    from web.demo import CASES, USERS, demo_command

    first = app.test_cli_runner().invoke(demo_command)
    assert first.exit_code == 0, first.output
    assert "demo-sequences" in first.output
    counts = _counts(session)
    assert counts["User"] == len(USERS) and counts["Dossier"] == len(CASES) == 30
    assert counts["SequenceVersion"] == 5 and counts["TemplateVersion"] == len(TEMPLATES)
    statuses = set(session.scalars(select(Run.status)))
    assert {RunStatus.RUNNING, RunStatus.COMPLETED, RunStatus.SWITCHED} <= statuses
    assert RunStatus.FAILED not in statuses
    session.rollback()  # SQLite: the demo's transaction waits for this one's write lock
    # A later release changed a file of the library (a calendar, a label): the published ones stay the demo's.
    edited = tmp_path / "library"
    edited.mkdir()
    for path in FILES:
        (edited / path.name).write_bytes(path.read_bytes().replace("S4 —".encode(), b"S4 :"))
    assert (edited / "s4_expulsion.bpmn").read_bytes() != FILES[3].read_bytes()
    monkeypatch.setattr("web.demo.LIBRARY", edited)
    second = app.test_cli_runner().invoke(demo_command)
    assert second.exit_code == 0, second.output
    session.expire_all()
    assert _counts(session) == counts
