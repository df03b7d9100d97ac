"""The `sequences` command line."""

from sqlalchemy import func, select

from designer.models import Sequence, SequenceVersion
from kernel.accounts import ApiToken, User
from tests.factories import DATA


def test_user_and_token_creation(app):
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=[
            "user",
            "create",
            "--email",
            "Ana@Example.test",
            "--name",
            "Ana",
            "--kind",
            "internal",
            "--role",
            "analyst",
            "--password",
            "s3cret-pass",
        ]
    )
    assert made.exit_code == 0, made.output
    again = runner.invoke(
        args=[
            "user",
            "create",
            "--email",
            "ana@example.test",
            "--name",
            "Ana",
            "--kind",
            "internal",
            "--role",
            "analyst",
            "--password",
            "s3cret-pass",
        ]
    )
    assert again.exit_code != 0 and "existe déjà" in again.output
    token = runner.invoke(args=["token", "create", "--email", "ana@example.test"])
    assert token.exit_code == 0
    value = token.output.strip()
    assert value.startswith("seq_")
    # Stored hashed only; the printed token works on the API.
    assert db_scalar(select(ApiToken.token_hash)) != value
    answer = app.test_client().get("/api/v1/sequences", headers={"Authorization": f"Bearer {value}"})
    assert answer.status_code == 200
    assert db_scalar(select(User.password_hash)).startswith(("scrypt:", "pbkdf2:"))


def db_scalar(query):
    from web.extensions import db

    return db.session.scalar(query)


def test_import_publishes_in_dependency_order_and_reports_problems(app):
    runner = app.test_cli_runner()
    files = [str(DATA / "bpmn" / "runtime" / name) for name in ("rt_plan.bpmn", "rt_sub.bpmn")]
    done = runner.invoke(args=["import", *files, "--publish"])
    assert done.exit_code == 0, done.output
    assert "rt_plan" in done.output and "version 1" in done.output
    assert db_scalar(select(func.count(SequenceVersion.id))) == 2
    bad = runner.invoke(
        args=["import", str(DATA / "bpmn" / "invalid" / "branch_without_condition.bpmn"), "--publish"]
    )
    assert bad.exit_code == 1
    assert "Flow_other [branch_without_condition]" in bad.output
    assert db_scalar(select(func.count(SequenceVersion.id))) == 2
    # Nothing of a refused import is kept, not even its draft.
    assert db_scalar(select(func.count(Sequence.id))) == 2
