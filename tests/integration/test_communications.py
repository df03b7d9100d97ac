"""Communications to contacts: templates checked at save time, the outbox, real SMTP delivery on loopback,
letters as PDF, failures and retries. On SQLite and PostgreSQL."""

import email
import io
import socket
import threading
from datetime import datetime
from email import policy

import pytest
from sqlalchemy import select

from tests.integration.pilot import Pilot

FROM = "Bailleur Social <relances@bailleur.test>"
RELANCE = {
    "key": "relance_amiable", "channel": "email", "name": "Relance amiable",
    "subject": "Loyer impayé — dossier {{ dossier.reference }}",
    "body": ("Bonjour {{ recipient.name }},\n\n"
             "Sauf erreur de notre part, le solde de {{ dossier.data.balance | money }} reste dû "
             "au {{ today | date_fr }}.\n"
             "Merci de régulariser avant le {{ dossier.data.due_date | date_fr }}.\n"),
}
MISE_EN_DEMEURE = {
    "key": "mise_en_demeure", "channel": "letter", "name": "Mise en demeure",
    "subject": "Mise en demeure de payer — {{ dossier.reference }}",
    "body": ("Madame, Monsieur {{ recipient.name }},\n\n"
             "En votre qualité de caution, nous vous mettons en demeure de régler la somme de "
             "{{ dossier.data.balance | money }} sous huit jours.\n\n"
             "Fait le {{ today | date_fr }}.\n"),
}

SMS = {"key": "relance_sms", "channel": "sms",
       "body": "Loyer impayé ({{ dossier.data.balance | money }}) : merci de nous appeler."}


# --- A real SMTP server on loopback -------------------------------------------------------------------------


class Mailbox:
    """aiosmtpd handler: keeps what it accepted, refuses what it is told to."""

    def __init__(self):
        self.accepted: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse_recipients: dict[str, str] = {}  # address -> SMTP reply
        self.data_replies: list[str] = []  # replies to DATA, used up first (then 250)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_recipients:
            return self.refuse_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.data_replies:
                return self.data_replies.pop(0)
            self.accepted.append(email.message_from_bytes(envelope.content, policy=policy.default))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def by_message_id(self) -> dict[str, list]:
        """What a mailbox that deduplicates on Message-ID shows: one entry per id, with every copy."""
        found: dict[str, list] = {}
        for message in self.accepted:
            found.setdefault(message["Message-ID"], []).append(message)
        return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.port = controller.port
    yield mailbox
    controller.stop()


# --- The app, the tables, the scenario ----------------------------------------------------------------------


@pytest.fixture
def pilot(client, users):
    pilot = Pilot(client, users)
    # A sequence is published only once the templates its send tasks name exist.
    for template in (RELANCE, MISE_EN_DEMEURE, SMS):
        pilot.call("POST", "/templates", who="analyst", json=template, expect=201)
    pilot.publish("comm_relance", "comm_failure_path", "comm_letter", "comm_sms", folder="communications")
    return pilot


def add_template(pilot, template, expect=201, who="analyst"):
    """Creates the template; one the fixture already made gets this content as its latest version."""
    if expect != 201:
        return pilot.call("POST", "/templates", who=who, json=template, expect=expect)
    answer = pilot.call("POST", "/templates", who=who, json=template)
    if answer.get("error") == "conflict":
        content = {field: value for field, value in template.items() if field != "key"}
        return pilot.call("PUT", f"/templates/{template['key']}", who=who, json=content, expect=200)
    assert "error" not in answer, answer
    return answer


def make_dossier(pilot, reference="D-100", tenants=(("Jeanne Martin", "jeanne@locataire.test"),)):
    dossier = pilot.dossier(reference, {"balance": 1234.5, "due_date": "2026-03-20"})
    pilot.participant(dossier["id"], "internal", "Gestionnaire", ["gestionnaire"], user="manager")
    for name, address in tenants:
        pilot.participant(dossier["id"], "contact", name, ["locataire"], email=address)
    return dossier


def smtp_config(server):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": server.port, "SMTP_FROM": FROM, "SMTP_STARTTLS": False}


def deliver(session, clock, config=None):
    from runtime.delivery import deliver_pending

    return deliver_pending(session, clock.now(), config or {})


def communications(pilot, dossier_id):
    return pilot.call("GET", f"/dossiers/{dossier_id}/communications", expect=200)


def kinds(pilot, dossier_id):
    return [e["kind"] for e in pilot.history(dossier_id)]


# --- Templates ----------------------------------------------------------------------------------------------


def test_templates_are_versioned_and_checked_when_saved(pilot):
    created = add_template(pilot, RELANCE)
    assert (created["key"], created["version"], created["channel"]) == ("relance_amiable", 1, "email")
    add_template(pilot, RELANCE, expect=409)
    changed = pilot.call("PUT", "/templates/relance_amiable", who="analyst", expect=200,
                         json={"body": RELANCE["body"] + "\nCordialement.\n"})
    assert changed["version"] == 2
    same = pilot.call("PUT", "/templates/relance_amiable", who="analyst", expect=200,
                      json={"body": RELANCE["body"] + "\nCordialement.\n"})
    assert same["version"] == 2  # nothing changed, no new version
    shown = pilot.call("GET", "/templates/relance_amiable", who="manager", expect=200)
    assert shown["version"] == 2 and [v["version"] for v in shown["versions"]] == [1, 2]
    assert pilot.call("GET", "/templates/relance_amiable?version=1", expect=200)["body"] == RELANCE["body"]
    listed = [t["key"] for t in pilot.call("GET", "/templates", expect=200)]
    assert listed == ["mise_en_demeure", "relance_amiable", "relance_sms"]
    # Managers read, analysts and admins write, partners see nothing.
    pilot.call("PUT", "/templates/relance_amiable", who="manager", json={"body": "x"}, expect=403)
    pilot.call("GET", "/templates", who="partner", expect=404)
    # An error is shown when saving: 422 with the field, the line and the message; nothing is saved.
    refused = pilot.call("PUT", "/templates/relance_amiable", who="analyst", expect=422,
                         json={"body": "Bonjour,\n{{ recipient.nom }}"})
    assert (refused["error"], refused["field"], refused["line"]) == ("invalid_template", "body", 2)
    assert "nom" in refused["message"]
    refused = add_template(pilot, {**RELANCE, "key": "autre", "subject": "{{ dossier.nope }}"}, expect=422)
    assert refused["field"] == "subject" and refused["line"] == 1
    assert pilot.call("GET", "/templates/relance_amiable", expect=200)["version"] == 2


@pytest.mark.parametrize("body, line, words", [
    ("Bonjour {{ recipient.name }},\n{{ dossier.refernce }}", 2, "refernce"),
    ("Ligne 1\nLigne 2\n{% if dossier.reference %}oui", 3, "syntaxe"),
    ("{{ today | date_francais }}", 1, "date_francais"),
    ("{{ ''.__class__.__mro__ }}", 1, "interdite"),
    ("{{ cycler.__init__.__globals__ }}", 1, "interdite"),
    ("{{ recipient.__class__ }}", 1, "interdite"),
    ("{{ dossier.data._secret }}", 1, "_secret"),
    ("{% for i in range(100000000) %}x{% endfor %}", 1, "range"),
    ("{{ 'x' * 100000000 }}", 1, "trop long"),
    ("{{ recipient.roles.append('admin') }}", 1, "interdite"),
    ("{{ 'abc'.__len__() }}", 1, "interdite"),
])
def test_template_errors_and_sandbox_escapes_are_refused_at_save_time(body, line, words):
    from runtime.communications.templates import InvalidTemplate, check_template
    from tests.conftest import START

    with pytest.raises(InvalidTemplate) as refused:
        check_template("email", RELANCE["subject"], body, False, START)
    assert refused.value.code == "invalid_template" and refused.value.details["field"] == "body"
    assert refused.value.details["line"] == line, refused.value.message
    assert words in refused.value.message


def test_html_emails_are_escaped_text_is_not():
    from runtime.communications.rendering import render

    assert render("<p>{{ name }}</p>", {"name": "<b>x</b>"}, html=True) == "<p>&lt;b&gt;x&lt;/b&gt;</p>"
    assert render("{{ name }}", {"name": "<b>x</b>"}) == "<b>x</b>"


# --- Email over SMTP ----------------------------------------------------------------------------------------


def test_send_task_emails_every_holder_and_the_run_moves_on(pilot, session, clock, smtp_server):
    add_template(pilot, RELANCE)
    dossier = make_dossier(pilot, tenants=(("Jeanne Martin", "jeanne@locataire.test"),
                                           ("Paul Martin", "paul@locataire.test")))
    run = pilot.launch(dossier["id"], "comm_relance")
    send = pilot.only_action(run["id"], "Send_relance")
    assert send["type"] == "communication" and send["role"] == "locataire"
    queued = communications(pilot, dossier["id"])
    assert [(c["to"], c["status"], c["channel"]) for c in queued] == [
        ("jeanne@locataire.test", "queued", "email"), ("paul@locataire.test", "queued", "email")]
    assert queued[0]["subject"] == "Loyer impayé — dossier D-100"
    assert queued[0]["template"] == {"key": "relance_amiable", "version": 1}
    assert kinds(pilot, dossier["id"]).count("communication_queued") == 2

    done = deliver(session, clock, smtp_config(smtp_server))
    assert done.sent == 2
    assert len(smtp_server.accepted) == 2
    by_to = {m["To"].addresses[0].addr_spec: m for m in smtp_server.accepted}
    jeanne = by_to["jeanne@locataire.test"]
    assert jeanne["From"] == FROM
    assert str(jeanne["To"]) == "Jeanne Martin <jeanne@locataire.test>"
    assert jeanne["Subject"] == "Loyer impayé — dossier D-100"
    sent = {c["to"]: c for c in communications(pilot, dossier["id"])}
    assert jeanne["Message-ID"] == sent["jeanne@locataire.test"]["message_id"]
    text = jeanne.get_content()
    assert "Bonjour Jeanne Martin," in text
    assert "1\u00a0234,50\u00a0€" in text and "au 2 mars 2026" in text and "avant le 20 mars 2026" in text
    assert ("relances@bailleur.test", ["paul@locataire.test"]) in smtp_server.envelopes
    assert {c["status"] for c in sent.values()} == {"sent"}

    ended = pilot.call("GET", f"/actions/{send['id']}", expect=200)
    assert ended["status"] == "done" and ended["completed_by"] == "system:communication"
    assert pilot.only_action(run["id"], "Follow")["role"] == "gestionnaire"
    history = kinds(pilot, dossier["id"])
    assert history.count("communication_sent") == 2
    assert history.index("communication_sent") < history.index("action_completed")


def test_without_smtp_emails_are_kept_in_the_outbox_and_the_run_goes_on(pilot, session, clock):
    # The embedded default: nothing configured, the outbox is where emails are read (and sent by hand).
    add_template(pilot, RELANCE)
    dossier = make_dossier(pilot)
    run = pilot.launch(dossier["id"], "comm_relance")
    send = pilot.only_action(run["id"], "Send_relance")
    done = deliver(session, clock)
    assert done.claimed == 0 and done.kept == 1
    [row] = communications(pilot, dossier["id"])
    assert row["status"] == "kept" and row["sent_at"] is None
    ended = pilot.call("GET", f"/actions/{send['id']}", expect=200)
    assert ended["status"] == "done" and ended["completed_by"] == "system:communication"
    assert pilot.only_action(run["id"], "Follow")
    assert kinds(pilot, dossier["id"]).count("communication_kept") == 1


def test_a_refusal_451_then_acceptance_delivers_exactly_one_copy(pilot, session, clock, smtp_server):
    add_template(pilot, RELANCE)
    dossier = make_dossier(pilot)
    run = pilot.launch(dossier["id"], "comm_relance")
    smtp_server.data_replies = ["451 4.3.0 Try again later"]
    from runtime.delivery import deliver_pending

    # As the worker calls it: the SMTP_* values without their prefix.
    first = deliver_pending(session, clock.now(), smtp={"host": "127.0.0.1", "port": smtp_server.port,
                                                        "from": FROM, "starttls": False, "username": None})
    assert (first.claimed, first.retried, first.sent) == (1, 1, 0)
    [row] = communications(pilot, dossier["id"])
    assert row["status"] == "queued" and row["attempts"] == 1 and "451" in row["error"]
    assert row["next_attempt_at"].startswith("2026-03-02T09:01")
    assert deliver(session, clock, smtp_config(smtp_server)).claimed == 0  # not due yet
    assert pilot.only_action(run["id"], "Send_relance")["status"] == "open"

    clock.advance(minutes=2)
    assert deliver(session, clock, smtp_config(smtp_server)).sent == 1
    assert len(smtp_server.accepted) == 1
    [row] = communications(pilot, dossier["id"])
    assert row["status"] == "sent" and row["attempts"] == 2 and row["error"] is None
    assert smtp_server.accepted[0]["Message-ID"] == row["message_id"]
    assert pilot.only_action(run["id"], "Follow")


def test_connection_refused_is_retried_with_growing_delays(pilot, session, clock):
    add_template(pilot, RELANCE)
    dossier = make_dossier(pilot)
    pilot.launch(dossier["id"], "comm_relance")
    closed = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": free_port(), "SMTP_FROM": FROM}
    delays = []
    for _ in range(3):
        assert deliver(session, clock, closed).retried == 1
        [row] = communications(pilot, dossier["id"])
        assert row["status"] == "queued" and "injoignable" in row["error"]
        due = datetime.fromisoformat(row["next_attempt_at"])
        delays.append((due - clock.now()).total_seconds())
        clock.at = due
    assert delays == [60, 120, 240]


def test_an_interrupted_run_does_not_send_what_was_queued(pilot, session, clock, smtp_server):
    add_template(pilot, RELANCE)
    dossier = make_dossier(pilot)
    run = pilot.launch(dossier["id"], "comm_relance")
    pilot.call("POST", f"/runs/{run['id']}/interrupt", json={"reason": "Paiement reçu"}, expect=200)
    assert deliver(session, clock, smtp_config(smtp_server)).cancelled == 1
    [row] = communications(pilot, dossier["id"])
    assert row["status"] == "cancelled" and smtp_server.accepted == []


def test_two_workers_at_once_send_each_email_once(app, pilot, session, clock, smtp_server):
    from runtime.delivery import deliver_pending
    from web.extensions import db

    add_template(pilot, RELANCE)
    tenants = tuple((f"Locataire {i}", f"l{i}@locataire.test") for i in range(6))
    dossier = make_dossier(pilot, tenants=tenants)
    run = pilot.launch(dossier["id"], "comm_relance")
    session.remove()
    start, results = threading.Barrier(2), []

    def worker(name):
        with app.app_context():
            start.wait()
            results.append(deliver_pending(db.session, clock.now(), smtp_config(smtp_server), worker_id=name))
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r.sent for r in results) == 6 and sum(r.claimed for r in results) == 6
    assert len(smtp_server.accepted) == len(smtp_server.by_message_id()) == 6
    assert {c["status"] for c in communications(pilot, dossier["id"])} == {"sent"}
    assert kinds(pilot, dossier["id"]).count("communication_sent") == 6
    assert pilot.only_action(run["id"], "Follow")


def test_a_crash_between_send_and_mark_resends_the_same_message_id(pilot, session, clock, smtp_server,
                                                                    monkeypatch):
    from runtime import delivery

    add_template(pilot, RELANCE)
    dossier = make_dossier(pilot)
    run = pilot.launch(dossier["id"], "comm_relance")
    real_finish = delivery._finish_sent

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed after the server accepted the message")

    monkeypatch.setattr(delivery, "_finish_sent", crash)
    deliver(session, clock, smtp_config(smtp_server))
    assert len(smtp_server.accepted) == 1
    [row] = communications(pilot, dossier["id"])
    assert row["status"] == "sending"  # under the dead worker's lease

    monkeypatch.setattr(delivery, "_finish_sent", real_finish)
    assert deliver(session, clock, smtp_config(smtp_server)).claimed == 0  # the lease still holds
    clock.advance(minutes=11)
    assert deliver(session, clock, smtp_config(smtp_server)).sent == 1

    # The server got the message twice, with one Message-ID: a mailbox that deduplicates shows it once.
    assert len(smtp_server.accepted) == 2
    shown = smtp_server.by_message_id()
    [row] = communications(pilot, dossier["id"])
    assert list(shown) == [row["message_id"]] and len(shown[row["message_id"]]) == 2
    assert row["status"] == "sent"
    assert kinds(pilot, dossier["id"]).count("communication_sent") == 1
    assert pilot.only_action(run["id"], "Follow")


def test_a_550_rejection_leaves_the_action_open_and_flagged_for_a_manager(pilot, session, clock, smtp_server):
    add_template(pilot, RELANCE)
    dossier = make_dossier(pilot)
    run = pilot.launch(dossier["id"], "comm_relance")
    smtp_server.refuse_recipients["jeanne@locataire.test"] = "550 5.1.1 Mailbox unavailable"

    assert deliver(session, clock, smtp_config(smtp_server)).failed == 1
    [row] = communications(pilot, dossier["id"])
    assert row["status"] == "failed" and "550" in row["error"] and row["failed_at"]
    send = pilot.only_action(run["id"], "Send_relance")
    assert send["status"] == "open" and "550" in send["cause"] and "décision attendue" in send["cause"]
    failures = [e for e in pilot.history(dossier["id"]) if e["kind"] == "communication_failed"]
    assert [bool(e["data"].get("awaiting_decision")) for e in failures] == [False, True]
    assert smtp_server.accepted == []
    # Nothing more happens by itself; the manager decides.
    clock.advance(hours=1)
    assert deliver(session, clock, smtp_config(smtp_server)).claimed == 0
    pilot.complete(send["id"], "skipped", comment="Adresse fausse, relance par téléphone")
    assert pilot.only_action(run["id"], "Follow")


def test_a_550_follows_the_failure_path_when_the_diagram_draws_one(pilot, session, clock, smtp_server):
    add_template(pilot, RELANCE)
    dossier = make_dossier(pilot)
    run = pilot.launch(dossier["id"], "comm_failure_path")
    smtp_server.refuse_recipients["jeanne@locataire.test"] = "550 5.1.1 Mailbox unavailable"
    deliver(session, clock, smtp_config(smtp_server))
    actions = pilot.call("GET", f"/actions?run_id={run['id']}")
    [send] = [a for a in actions if a["element_id"] == "Send_relance"]
    assert send["status"] == "failed" and send["completed_by"] == "system:communication"
    assert "550" in send["comment"]
    assert pilot.only_action(run["id"], "Call")["role"] == "gestionnaire"


def test_a_sent_email_takes_the_normal_path_of_a_diagram_with_a_failure_path(pilot, session, clock,
                                                                             smtp_server):
    add_template(pilot, RELANCE)
    dossier = make_dossier(pilot)
    run = pilot.launch(dossier["id"], "comm_failure_path")
    deliver(session, clock, smtp_config(smtp_server))
    assert pilot.run(run["id"])["status"] == "completed"


def test_a_recipient_without_address_fails_the_action_with_the_reason(pilot, session, clock):
    add_template(pilot, RELANCE)
    dossier = make_dossier(pilot, tenants=(("Sans Adresse", None),))
    run = pilot.launch(dossier["id"], "comm_relance", allow_unreachable=True)  # told at launch, see below
    [row] = communications(pilot, dossier["id"])
    assert row["status"] == "failed" and "Sans Adresse n'a pas d'adresse e-mail" in row["error"]
    assert deliver(session, clock).resolved == 1
    send = pilot.only_action(run["id"], "Send_relance")
    assert "n'a pas d'adresse e-mail" in send["cause"]


def test_launching_warns_about_whom_a_communication_will_not_reach(pilot):
    dossier = make_dossier(pilot, tenants=(("Jeanne Martin", "jeanne@locataire.test"), ("Paul Sans", None)))
    pilot.call("POST", f"/dossiers/{dossier['id']}/participants", expect=201, json={
        "kind": "contact", "name": "Édouard Caution", "roles": ["caution"], "email": "edouard@caution.test"})
    refused = pilot.launch(dossier["id"], "comm_relance", expect=422)
    assert refused["error"] == "unreachable_contacts"
    assert [(c["element_id"], c["participant"], c["missing"]) for c in refused["contacts"]] == [
        ("Send_relance", "Paul Sans", "email")]
    said = "« Envoyer la relance amiable » (e-mail) : Paul Sans n'a pas d'adresse e-mail"
    assert said in refused["message"]
    assert pilot.call("GET", f"/dossiers/{dossier['id']}", expect=200)["runs"] == []  # nothing launched
    # A letter needs a postal address: the guarantor has only an email.
    refused = pilot.launch(dossier["id"], "comm_letter", expect=422)
    assert [c["message"] for c in refused["contacts"]] == [
        "« Envoyer la mise en demeure » (lettre) : Édouard Caution n'a pas d'adresse postale"]
    pilot.launch(dossier["id"], "comm_relance", allow_unreachable=True)


def test_a_template_that_does_not_fit_the_dossier_fails_at_queue_time_with_the_line(pilot, session, clock):
    add_template(pilot, {**RELANCE, "body": "Montant : {{ dossier.data.balance | money }}\n"
                                            "Échéance : {{ dossier.data.echeance | date_fr }}"})
    dossier = make_dossier(pilot)
    pilot.launch(dossier["id"], "comm_relance")
    [row] = communications(pilot, dossier["id"])
    assert row["status"] == "failed" and "(ligne 2)" in row["error"] and "echeance" in row["error"]


def test_sms_go_through_a_gateway_or_are_kept_in_the_outbox(pilot, session, clock):
    from runtime.delivery import deliver_pending

    add_template(pilot, SMS)
    dossier = pilot.dossier("D-300", {"balance": 80})
    pilot.participant(dossier["id"], "internal", "Gestionnaire", ["gestionnaire"], user="manager")
    pilot.call("POST", f"/dossiers/{dossier['id']}/participants", expect=201,
               json={"kind": "contact", "name": "Jeanne", "roles": ["locataire"], "phone": "+33600000000"})
    run = pilot.launch(dossier["id"], "comm_sms")
    [row] = communications(pilot, dossier["id"])
    assert (row["status"], row["to"], row["channel"]) == ("queued", "+33600000000", "sms")

    class Gateway:
        sent = []

        def send(self, communication):
            self.sent.append((communication.to_address, communication.body))

    gateway = Gateway()
    assert deliver_pending(session, clock.now(), {}, sms=gateway).sent == 1
    assert gateway.sent == [("+33600000000", "Loyer impayé (80,00\u00a0€) : merci de nous appeler.")]
    assert pilot.only_action(run["id"], "Follow")

    second = pilot.launch(dossier["id"], "comm_sms", confirm=True)  # a second run, on purpose
    assert deliver(session, clock).kept == 1  # no gateway: kept in the outbox, the run goes on
    assert [c["status"] for c in communications(pilot, dossier["id"])] == ["sent", "kept"]
    assert pilot.only_action(second["id"], "Follow")


# --- Letters ------------------------------------------------------------------------------------------------


def test_a_letter_is_produced_as_a_pdf_attached_to_the_dossier(pilot, session, clock):
    from pypdf import PdfReader

    add_template(pilot, MISE_EN_DEMEURE)
    dossier = pilot.dossier("D-200", {"balance": "2450"})
    pilot.participant(dossier["id"], "internal", "Gestionnaire", ["gestionnaire"], user="manager")
    caution = pilot.call("POST", f"/dossiers/{dossier['id']}/participants", expect=201, json={
        "kind": "contact", "name": "Édouard Caution", "roles": ["caution"],
        "address": "12 rue des Lilas\n69003 Lyon"})
    run = pilot.launch(dossier["id"], "comm_letter")
    [row] = communications(pilot, dossier["id"])
    assert row["status"] == "queued" and row["to"] == "12 rue des Lilas\n69003 Lyon"
    pilot.call("GET", f"/dossiers/{dossier['id']}/communications/{row['id']}/pdf", expect=404)

    assert deliver(session, clock).sent == 1  # letters need no mail server
    [row] = communications(pilot, dossier["id"])
    assert row["status"] == "sent" and row["document_id"] and row["pdf"]
    response = pilot.client.get(row["pdf"], headers=pilot.users["manager"].headers)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = PdfReader(io.BytesIO(response.data)).pages
    text = "\n".join(page.extract_text() for page in pages).replace("\u00a0", " ")
    assert "Édouard Caution" in text and "12 rue des Lilas" in text and "69003 Lyon" in text
    assert "Objet : Mise en demeure de payer — D-200" in text
    assert "2 450,00 €" in text and "Fait le 2 mars 2026." in text

    from runtime.documents import Document

    [document] = session.scalars(select(Document).where(Document.dossier_id == dossier["id"])).all()
    assert document.content_type == "application/pdf" and document.uploaded_by == "system:communication"
    assert pilot.run(run["id"])["status"] == "completed"
    assert caution["id"] == row["participant_id"]
    pilot.call("GET", f"/dossiers/{dossier['id']}/communications", who="partner", expect=404)


def test_the_launch_form_shows_whom_a_communication_will_not_reach_and_asks(app, pilot, session):
    from tests.integration.test_workspace_pages import FreshClient, login

    dossier = make_dossier(pilot, tenants=(("Paul Sans", None),))
    app.test_client_class = FreshClient
    browser = app.test_client()
    login(browser, pilot.users["manager"])
    url = f"/dossiers/{dossier['id']}"
    form = browser.get(f"{url}?launch=comm_relance").get_data(as_text=True)
    assert "« Envoyer la relance amiable » (e-mail) : Paul Sans n&#39;a pas d&#39;adresse e-mail" in form
    assert 'name="allow_unreachable"' in form
    refused = browser.post(f"{url}/runs", data={"sequence": "comm_relance"})
    assert refused.status_code == 303 and "launch=comm_relance" in refused.location
    assert "n&#39;atteindront pas leur destinataire" in browser.get(refused.location).get_data(as_text=True)
    assert pilot.call("GET", url, expect=200)["runs"] == []
    launched = browser.post(f"{url}/runs", data={"sequence": "comm_relance", "allow_unreachable": "1"})
    assert launched.status_code == 303 and "launch=" not in launched.location
    assert [r["sequence"] for r in pilot.call("GET", url, expect=200)["runs"]] == ["comm_relance"]
