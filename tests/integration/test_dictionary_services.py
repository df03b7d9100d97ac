"""Editing the dictionary: checked entries, every change kept, what running dossiers use protected."""

import pytest

from designer import dictionary
from designer import dictionary_services as service
from kernel.errors import Conflict, NotFound, RuleBroken
from tests.conftest import START
from tests.factories import bpmn, looping_run, make_user


@pytest.fixture
def analyst(session):
    account = make_user(session, name="analyst", role="analyst")
    session.commit()
    return account.id


def running(session):
    from runtime.runs import running_by_version

    return running_by_version(session)


def test_an_entry_is_created_updated_removed_and_every_change_is_kept(session, analyst):
    service.create_entry(
        session,
        "fields",
        {
            "key": "landlord_kind",
            "label": "Type de bailleur",
            "type": "choice",
            "choices": [{"key": "social", "label": "Bailleur social"}, {"key": "private", "label": "Privé"}],
        },
        analyst,
        START,
    )
    service.update_entry(
        session,
        "fields",
        "landlord_kind",
        {
            "label": "Bailleur",
            "label_en": "Landlord",
            "type": "choice",
            "choices": [{"key": "social", "label": "Social"}, {"key": "private", "label": "Privé"}],
        },
        analyst,
        START,
        running(session),
    )
    words = dictionary.load(session)
    assert words.label("fields", "landlord_kind") == "Bailleur"
    assert words.label("fields", "landlord_kind", "en") == "Landlord"
    assert words.fields["landlord_kind"].choices[0].label == "Social"
    service.remove_entry(session, "fields", "landlord_kind", analyst, START, running(session))
    changes = service.changes_of(session, "fields", "landlord_kind")
    assert [c.change for c in changes] == ["removed", "updated", "created"]
    assert changes[1].before["label"] == "Type de bailleur" and changes[1].after["label"] == "Bailleur"
    assert changes[0].by == analyst and changes[0].after is None
    assert "landlord_kind" not in dictionary.load(session).fields


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("fields", {"key": "date audience", "label": "Date"}, "key"),
        ("fields", {"key": "", "label": "Date"}, "key"),
        ("fields", {"key": "d", "label": "Date", "type": "datetime"}, "type"),
        ("fields", {"key": "d", "label": "Date", "type": "choice"}, "choices"),
        ("fields", {"key": "d", "type": "choice", "choices": [{"key": "a b"}]}, "choices[0].key"),
        ("roles", {"key": "r", "label": "R", "kind": "external"}, "kind"),
        ("events", {"key": "e", "fields": [{"key": "montant", "type": "euros"}]}, "fields[0].type"),
        ("outcomes", {"key": "paid", "label": "x" * 201}, "label"),
    ],
)
def test_an_invalid_entry_is_refused_naming_the_field(session, analyst, kind, data, field):
    with pytest.raises(RuleBroken) as error:
        service.create_entry(session, kind, data, analyst, START)
    assert error.value.details["field"] == field
    assert service.list_entries(session, kind) == []


def test_a_duplicate_key_is_a_conflict(session, analyst):
    service.create_entry(session, "outcomes", {"key": "paid", "label": "Payé"}, analyst, START)
    with pytest.raises(Conflict) as error:
        service.create_entry(session, "outcomes", {"key": "paid", "label": "Réglé"}, analyst, START)
    assert error.value.code == "entry_exists" and error.value.details["field"] == "key"


def test_an_unknown_entry_is_not_found(session):
    with pytest.raises(NotFound):
        service.get_entry(session, "fields", "nothing")
    with pytest.raises(NotFound):
        service.list_entries(session, "colours")


def test_what_running_dossiers_use_cannot_be_removed_nor_retyped_but_can_be_relabelled(session, analyst):
    from designer import services as designer

    looping_run(
        session, analyst, START, "IMP-1"
    )  # rt_loop: role gestionnaire, event surendettement, outcomes
    designer.save_draft(session, bpmn("runtime/rt_fragile.bpmn"), analyst, START)
    designer.publish_version(session, "rt_fragile", analyst, START)  # dossier.balance, no running dossier
    for kind, data in [
        ("roles", {"key": "gestionnaire", "label": "Gestionnaire", "kind": "internal"}),
        (
            "events",
            {"key": "surendettement", "label": "Surendettement", "fields": [{"key": "date", "type": "date"}]},
        ),
        ("outcomes", {"key": "paid", "label": "Payé"}),
        ("fields", {"key": "balance", "label": "Solde", "type": "amount"}),
    ]:
        service.create_entry(session, kind, data, analyst, START)
    in_use = running(session)

    with pytest.raises(Conflict) as error:
        service.remove_entry(session, "roles", "gestionnaire", analyst, START, in_use)
    assert error.value.code == "entry_in_use"
    assert "« Échéancier (test) » (version 1, 1 dossier en cours)" in error.value.message
    assert error.value.details["sequences"] == ["Échéancier (test)"]
    with pytest.raises(Conflict):
        service.update_entry(
            session, "roles", "gestionnaire", {"label": "G", "kind": "partner"}, analyst, START, in_use
        )
    with pytest.raises(Conflict):
        service.remove_entry(session, "outcomes", "paid", analyst, START, in_use)
    with pytest.raises(Conflict):
        service.update_entry(
            session,
            "events",
            "surendettement",
            {"label": "S", "fields": [{"key": "date", "type": "text"}]},
            analyst,
            START,
            in_use,
        )
    # Relabelling is free; a field nobody running uses may change type or go.
    service.update_entry(
        session, "roles", "gestionnaire", {"label": "Gestionnaire du dossier"}, analyst, START, in_use
    )
    service.update_entry(
        session,
        "events",
        "surendettement",
        {
            "label": "Dépôt de surendettement",
            "fields": [{"key": "date", "type": "date"}, {"key": "n", "type": "number"}],
        },
        analyst,
        START,
        in_use,
    )
    service.update_entry(
        session, "fields", "balance", {"label": "Solde", "type": "number"}, analyst, START, in_use
    )
    assert dictionary.load(session).label("roles", "gestionnaire") == "Gestionnaire du dossier"


def test_fields_in_conditions_are_used(session, analyst):
    from designer import services as designer
    from runtime.actors import Actor
    from runtime.dossiers import add_participant, create_dossier
    from runtime.runs import launch_run

    designer.save_draft(session, bpmn("runtime/rt_fragile.bpmn"), analyst, START)
    designer.publish_version(session, "rt_fragile", analyst, START)
    actor = Actor(user_id=analyst)
    dossier = create_dossier(session, actor, "IMP-2", "D", {}, START)
    add_participant(
        session, dossier, actor, START, kind="internal", name="G", user_id=analyst, roles=["gestionnaire"]
    )
    launch_run(session, dossier.id, actor, START, sequence="rt_fragile")
    service.create_entry(
        session, "fields", {"key": "balance", "label": "Solde", "type": "amount"}, analyst, START
    )
    with pytest.raises(Conflict) as error:
        service.update_entry(
            session, "fields", "balance", {"label": "Solde", "type": "text"}, analyst, START, running(session)
        )
    assert "Condition fragile (test)" in error.value.message


def test_the_demo_labels_what_the_upgrade_filled_in_and_leaves_an_analysts_words(session, analyst):
    from web.demo_dictionary import ensure_dictionary, entries

    service.create_entry(session, "outcomes", {"key": "paid", "label": "Paid"}, None, START)  # the upgrade's
    service.create_entry(session, "fields", {"key": "hearing_date", "type": "text"}, None, START)
    service.create_entry(
        session, "outcomes", {"key": "partial", "label": "Partiel (à revoir)"}, analyst, START
    )
    assert ensure_dictionary(session, analyst, START) == len(entries()) - 1
    words = dictionary.load(session)
    assert words.label("outcomes", "paid") == "Payé" and words.fields["hearing_date"].type == "date"
    assert words.label("outcomes", "partial") == "Partiel (à revoir)"
    assert ensure_dictionary(session, analyst, START) == 0
