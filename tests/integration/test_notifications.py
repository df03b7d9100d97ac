"""Notifications by email through the outbox and a real SMTP server on loopback: the holder of a new action
is told once, a burst of actions makes one email, the daily digest comes at the hour chosen with every open
action, preferences are respected, and managers hear of failed runs. On SQLite and PostgreSQL."""

import pytest
from sqlalchemy import select

from runtime import notifications
from runtime.actions import complete_action
from runtime.actors import Actor
from runtime.communications.models import Communication
from runtime.delivery import deliver_pending
from runtime.dossiers import add_participant, create_dossier
from runtime.models import Action, ActionStatus, RunStatus
from runtime.runs import launch_run, set_role_holders
from tests.conftest import START
from tests.integration.test_communications import Mailbox, free_port, smtp_config
from tests.workspace_data import publish

LINKS = notifications.Links("https://sequences.example.test")


@pytest.fixture
def smtp():
    """A real SMTP server on loopback, keeping what it accepted."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.port = controller.port
    yield mailbox
    controller.stop()


@pytest.fixture
def world(app, session, users):
    publish(session, users["analyst"].id, "rt_notify", "rt_fragile")
    session.commit()
    return users


def dossier_for(session, users, reference, partner="partner", at=START, launch=True):
    actor = Actor(user_id=users["manager"].id)
    dossier = create_dossier(session, actor, reference, f"Martin {reference}", {}, at)
    add_participant(
        session,
        dossier,
        actor,
        at,
        kind="internal",
        name="Camille",
        user_id=users["manager"].id,
        roles=["gestionnaire"],
    )
    bailiff = add_participant(
        session,
        dossier,
        actor,
        at,
        kind="partner",
        name="Maître Huissier",
        user_id=users[partner or "partner2"].id,
        roles=["commissaire_justice"] if partner else [],
    )
    run = None
    if launch:
        run = launch_run(
            session, dossier.id, actor, at, sequence="rt_notify", allow_unassigned=partner is None
        )
    return dossier, bailiff, run


def send(session, server, at):
    """One worker pass: queue what is due, then deliver it."""
    queued = notifications.queue_due(session, at, LINKS)
    session.commit()
    deliver_pending(session, at, smtp_config(server))
    return queued


def test_the_holder_of_a_new_action_gets_one_email_with_a_link_to_it(world, session, clock, smtp):
    _dossier, _bailiff, run = dossier_for(session, world, "D-1")
    session.commit()
    action = session.scalar(select(Action).where(Action.run_id == run.id))
    send(session, smtp, clock.now())
    assert len(smtp.accepted) == 1
    message = smtp.accepted[0]
    assert message["To"].addresses[0].addr_spec == "partner@example.test"
    assert "Signifier le commandement de payer" in message["Subject"]
    body = message.get_content()
    assert f"https://sequences.example.test/portal/actions/{action.id}" in body
    assert "D-1" in body
    # Told once: the next pass has nothing to say, and the email is visible in the outbox.
    assert send(session, smtp, clock.now()).emails == 0
    assert len(smtp.accepted) == 1
    shown = notifications.outbox(session)
    assert [(c.to_address, c.status) for c in shown] == [("partner@example.test", "sent")]


def test_a_burst_of_a_hundred_actions_makes_one_email(world, session, clock, smtp):
    for n in range(100):
        dossier_for(session, world, f"B-{n:03d}")
    session.commit()
    queued = send(session, smtp, clock.now())
    assert queued.announced == 100
    to_partner = [m for m in smtp.accepted if m["To"].addresses[0].addr_spec == "partner@example.test"]
    assert len(to_partner) == 1
    assert "100 nouvelles actions" in to_partner[0]["Subject"]
    body = to_partner[0].get_content()
    assert "B-000" in body and "B-099" in body
    assert len(smtp.accepted) == 1  # the manager holds no role of rt_notify: nothing for them


def test_a_role_given_later_tells_its_new_holder(world, session, clock, smtp):
    _dossier, bailiff, run = dossier_for(session, world, "D-2", partner=None)
    session.commit()
    assert send(session, smtp, clock.now()).emails == 0  # nobody holds the role yet
    clock.advance(hours=1)
    set_role_holders(
        session, run.id, Actor(user_id=world["manager"].id), "commissaire_justice", [bailiff.id], clock.now()
    )
    session.commit()
    send(session, smtp, clock.now())
    assert [m["To"].addresses[0].addr_spec for m in smtp.accepted] == ["partner2@example.test"]


def test_the_daily_digest_comes_at_the_hour_chosen_with_every_open_action(world, session, clock, smtp):
    # 09:00 UTC is 10:00 in Paris: choosing a digest at 8 h now means tomorrow's.
    notifications.set_preferences(session, world["partner"].id, "daily", 8, clock.now())
    for n in range(3):
        dossier_for(session, world, f"J-{n}")
    session.commit()
    assert send(session, smtp, clock.now()).emails == 0
    clock.advance(hours=20)  # 05:00 UTC, 06:00 in Paris: not yet
    assert send(session, smtp, clock.now()).emails == 0
    clock.advance(hours=2)  # 07:00 UTC = 08:00 in Paris
    assert send(session, smtp, clock.now()).emails == 1
    assert len(smtp.accepted) == 1
    digest = smtp.accepted[0]
    assert "récapitulatif" in digest["Subject"] and "3 actions à faire" in digest["Subject"]
    body = digest.get_content()
    assert all(f"J-{n}" in body for n in range(3)) and body.count("[nouveau]") == 3
    clock.advance(hours=3)
    assert send(session, smtp, clock.now()).emails == 0  # one digest a day
    # Ten days later, the same actions are overdue and the digest says so; nothing is new any more.
    clock.advance(days=10)
    send(session, smtp, clock.now())
    late = smtp.accepted[-1]
    assert "3 en retard" in late["Subject"] and "[nouveau]" not in late.get_content()


def test_a_user_who_wants_no_email_gets_none(world, session, clock, smtp):
    notifications.set_preferences(session, world["partner"].id, "none", 8, clock.now())
    dossier_for(session, world, "N-1")
    session.commit()
    assert send(session, smtp, clock.now()).silenced == 1
    clock.advance(days=1)
    send(session, smtp, clock.now())
    assert smtp.accepted == []


def test_preferences_are_checked(world, session, clock):
    from kernel.errors import RuleBroken

    with pytest.raises(RuleBroken) as refused:
        notifications.set_preferences(session, world["partner"].id, "weekly", 8, clock.now())
    assert refused.value.details["field"] == "frequency"
    with pytest.raises(RuleBroken) as refused:
        notifications.set_preferences(session, world["partner"].id, "daily", 25, clock.now())
    assert refused.value.details["field"] == "hour"


def test_an_action_ended_before_the_pass_is_not_announced(world, session, clock, smtp):
    _dossier, _bailiff, run = dossier_for(session, world, "E-1")
    session.commit()
    action = session.scalar(select(Action).where(Action.run_id == run.id))
    complete_action(
        session, action.id, Actor(user_id=world["manager"].id), ActionStatus.DONE, None, None, clock.now()
    )
    session.commit()
    send(session, smtp, clock.now())
    assert smtp.accepted == []


def test_managers_are_told_when_a_run_of_their_dossier_fails(world, session, clock, smtp):
    actor = Actor(user_id=world["manager"].id)
    dossier = create_dossier(session, actor, "F-1", "Martin F-1", {"balance": "beaucoup"}, START)
    add_participant(
        session,
        dossier,
        actor,
        START,
        kind="internal",
        name="Camille",
        user_id=world["manager"].id,
        roles=["gestionnaire"],
    )
    run = launch_run(session, dossier.id, actor, START, sequence="rt_fragile")
    session.commit()
    send(session, smtp, clock.now())  # the manager's new action « Vérifier le solde »
    smtp.accepted.clear()
    check = session.scalar(select(Action).where(Action.run_id == run.id))
    clock.advance(minutes=5)
    complete_action(session, check.id, actor, ActionStatus.DONE, None, None, clock.now())
    session.commit()
    assert run.status == RunStatus.FAILED
    send(session, smtp, clock.now())
    assert len(smtp.accepted) == 1
    message = smtp.accepted[0]
    assert message["To"].addresses[0].addr_spec == "manager@example.test"
    assert "déroulement en échec" in message["Subject"]
    assert f"https://sequences.example.test/dossiers/{dossier.id}" in message.get_content()


def test_notification_emails_without_smtp_stay_in_the_outbox(world, session, clock):
    dossier_for(session, world, "K-1")
    session.commit()
    notifications.queue_due(session, clock.now(), LINKS)
    session.commit()
    assert deliver_pending(session, clock.now(), {}).kept == 1
    row = session.scalar(select(Communication))
    assert row.status == "kept" and row.dossier_id is None


@pytest.fixture
def pilot(client, users):
    from tests.integration.pilot import Pilot
    from tests.integration.test_communications import MISE_EN_DEMEURE, RELANCE, SMS

    pilot = Pilot(client, users)
    for template in (RELANCE, MISE_EN_DEMEURE, SMS):
        pilot.call("POST", "/templates", who="analyst", json=template, expect=201)
    pilot.publish("comm_relance", folder="communications")
    return pilot


def test_managers_are_told_when_a_communication_fails_for_good(pilot, session, clock, smtp):
    from tests.integration.test_communications import make_dossier

    dossier = make_dossier(pilot)
    pilot.launch(dossier["id"], "comm_relance")
    smtp.refuse_recipients["jeanne@locataire.test"] = "550 5.1.1 Mailbox unavailable"
    deliver_pending(session, clock.now(), smtp_config(smtp))  # refused for good: the action is flagged
    assert smtp.accepted == []
    send(session, smtp, clock.now())
    [notice] = [m for m in smtp.accepted if "envoi en échec" in m["Subject"]]
    assert notice["To"].addresses[0].addr_spec == "manager@example.test"
    body = notice.get_content()
    assert "550" in body and f"https://sequences.example.test/dossiers/{dossier['id']}" in body


def test_the_worker_queues_and_sends_notifications_in_its_pass(app, world, session, clock, smtp):
    import uuid
    from datetime import timedelta

    from web.worker import run_pass

    ident = f"test-worker-{uuid.uuid4().hex}"  # the pause between looks is kept per worker, in the process
    dossier_for(session, world, "W-1")
    session.commit()
    app.config.update(smtp_config(smtp), BASE_URL="https://app.example.test")
    run_pass(app, ident, 10, timedelta(seconds=60), lambda: False)
    [message] = smtp.accepted
    assert "https://app.example.test/portal/actions/" in message.get_content()
    # At most one look every NOTIFY_INTERVAL_SECONDS per worker: a second pass at once queues nothing more.
    dossier_for(session, world, "W-2")
    session.commit()
    run_pass(app, ident, 10, timedelta(seconds=60), lambda: False)
    assert len(smtp.accepted) == 1


def test_a_look_at_ones_actions_moves_the_seen_time_only_over_something_new(world, session, clock):
    """« Mes actions » notes each visit in one statement, which writes only when a notice came after the seen
    time: the count of new actions is the same as if every visit wrote it."""
    from runtime.notices import NotificationSetting

    partner = world["partner"].id

    def seen_at():
        session.expire_all()
        return session.get(NotificationSetting, partner).seen_at

    dossier_for(session, world, "D-1")
    notifications.queue_due(session, clock.now(), LINKS)  # the partner is told of the action
    session.commit()
    assert notifications.new_count(session, partner) == 1
    clock.advance(hours=1)
    assert notifications.note_visit(session, partner, clock.now())  # the first visit makes the user's row
    session.commit()
    first = clock.now()
    assert seen_at() == first and notifications.new_count(session, partner) == 0
    clock.advance(hours=1)
    assert not notifications.note_visit(session, partner, clock.now())  # nothing new since: nothing written
    session.commit()
    assert seen_at() == first and notifications.new_count(session, partner) == 0
    dossier_for(session, world, "D-2")
    notifications.queue_due(session, clock.now(), LINKS)
    session.commit()
    assert notifications.new_count(session, partner) == 1
    clock.advance(minutes=1)
    assert notifications.note_visit(session, partner, clock.now())
    session.commit()
    assert seen_at() == clock.now() and notifications.new_count(session, partner) == 0
