"""A small history written as rows, whose pilotage figures are computed by hand in tests/integration/
test_pilotage.py. T0 is a Monday, three weeks before START (the clock of the tests, also a Monday).

    run  dossier  sequence    started  ended                       actions (element, role: created → end, due)
    R1   D1       rt_relance  T0       T0+10d completed            Call: T0 → T0+1d (paid), due T0+2d
                                                                   Serve (bailiff): T0+1d → T0+10d, due T0+5d
    R2   D2       rt_relance  T0+1d    T0+8d switched to R5        Call: T0+1d → T0+8d (plan), due T0+3d
    R3   D3       rt_relance  T0+7d    running                     Call: T0+7d → open, due T0+9d
    R4   D4       rt_relance  T0+14d   T0+15d interrupted          Call: T0+14d → T0+15d cancelled, due T0+16d
    R5   D2       rt_plan     T0+8d    running                     –

    timers Six_weeks: R1 due T0+3d fired T0+4d; R2 due T0+5d fired 1 minute after; R3 due T0+12d pending;
    R4 due T0+20d cancelled.
"""

from datetime import timedelta

from sqlalchemy import insert, select

from designer.models import Sequence, SequenceVersion
from runtime.assignments import Assignment
from runtime.models import Action, Dossier, Participant, Run, RunRole, Timer
from tests.conftest import START
from tests.workspace_data import publish

T0 = START - timedelta(days=21)
DAY = timedelta(days=1)


def _version(session, key):
    return session.scalar(select(SequenceVersion).join(Sequence).where(Sequence.key == key))


def build_history(session, manager, partner) -> dict:
    publish(session, manager.id, "rt_sub", "rt_plan", "rt_relance")
    relance, plan = _version(session, "rt_relance"), _version(session, "rt_plan")
    dossiers = []
    for n in range(1, 5):
        dossier = Dossier(reference=f"D-{n}", title=f"Locataire {n}", data={}, created_at=T0, updated_at=T0)
        session.add(dossier)
        session.flush()
        gestion = Participant(
            dossier_id=dossier.id, kind="internal", name="Gestionnaire", user_id=manager.id, created_at=T0
        )
        bailiff = Participant(
            dossier_id=dossier.id, kind="partner", name="Maître Huissier", user_id=partner.id, created_at=T0
        )
        session.add_all([gestion, bailiff])
        dossiers.append((dossier, gestion, bailiff))
    session.flush()

    def run(n, version, started, status, ended=None):
        dossier, gestion, bailiff = dossiers[n - 1]
        row = Run(
            dossier_id=dossier.id,
            version_id=version.id,
            status=status,
            started_at=started,
            started_by="test",
            ended_at=ended,
        )
        session.add(row)
        session.flush()
        session.add(RunRole(run_id=row.id, role="gestionnaire", participant_id=gestion.id))
        session.add(RunRole(run_id=row.id, role="commissaire_justice", participant_id=bailiff.id))
        return row

    r1 = run(1, relance, T0, "completed", T0 + 10 * DAY)
    r2 = run(2, relance, T0 + DAY, "switched", T0 + 8 * DAY)
    r3 = run(3, relance, T0 + 7 * DAY, "running")
    r4 = run(4, relance, T0 + 14 * DAY, "interrupted", T0 + 15 * DAY)
    r5 = run(2, plan, T0 + 8 * DAY, "running")
    r2.next_run_id = r5.id

    def action(run_row, element, role, created, due, status, completed=None, outcome=None):
        row = Action(
            run_id=run_row.id,
            dossier_id=run_row.dossier_id,
            element_id=element,
            name=element,
            type="task",
            role=role,
            outcomes=[],
            status=status,
            outcome=outcome,
            due_at=due,
            created_at=created,
            completed_at=completed,
        )
        session.add(row)
        return row

    action(r1, "Call", "gestionnaire", T0, T0 + 2 * DAY, "done", T0 + DAY, "paid")
    action(r1, "Serve", "commissaire_justice", T0 + DAY, T0 + 5 * DAY, "done", T0 + 10 * DAY)
    action(r2, "Call", "gestionnaire", T0 + DAY, T0 + 3 * DAY, "done", T0 + 8 * DAY, "plan")
    open_call = action(r3, "Call", "gestionnaire", T0 + 7 * DAY, T0 + 9 * DAY, "open")
    action(r4, "Call", "gestionnaire", T0 + 14 * DAY, T0 + 16 * DAY, "cancelled", T0 + 15 * DAY)
    session.flush()
    # Written with the columns every revision has (the history is also built at older revisions).
    session.execute(
        insert(Assignment.__table__).values(
            action_id=open_call.id, user_id=manager.id, due_at=open_call.due_at
        )
    )

    def timer(run_row, due, fired=None, cancelled=None):
        session.add(
            Timer(
                run_id=run_row.id,
                element_id="Six_weeks",
                task_id=f"t{run_row.id}",
                due_at=due,
                created_at=run_row.started_at,
                fired_at=fired,
                cancelled_at=cancelled,
            )
        )

    timer(r1, T0 + 3 * DAY, fired=T0 + 4 * DAY)
    timer(r2, T0 + 5 * DAY, fired=T0 + 5 * DAY + timedelta(minutes=1))
    timer(r3, T0 + 12 * DAY)
    timer(r4, T0 + 20 * DAY, cancelled=T0 + 15 * DAY)
    session.commit()
    return {"dossiers": [d.id for d, _, _ in dossiers], "runs": [r1.id, r2.id, r3.id, r4.id, r5.id]}
