"""What a run executes: its pinned version, the pinned versions of the sequences it calls, their models.

Engine specs never change once published, so they are loaded once per process and cached by version id."""

from sqlalchemy.orm import Session

from bpmn.dialect import SequenceModel
from bpmn.engine import SpecBundle
from bpmn.spec import load_spec
from designer.models import SequenceVersion
from designer.services import latest_version
from kernel.errors import NotFound, RuleBroken

from .models import Run

# Versions are immutable, so what is derived from them is derived once per process.
_MODELS: dict[tuple[int, str], SequenceModel] = {}
_SPECS: dict[str, object] = {}


def called_versions(session: Session, model: SequenceModel) -> dict[str, SequenceVersion]:
    """The latest published version of every sequence the model calls, transitively. NotFound names the
    first one not published (`details["key"]`)."""
    found: dict[str, SequenceVersion] = {}
    pending = list(model.called)
    while pending:
        key = pending.pop()
        if key in found:
            continue
        try:
            found[key] = latest_version(session, key)
        except NotFound as error:  # only this: a database error is not an unpublished sequence
            raise NotFound(error.message, key=key) from error
        pending.extend(SequenceModel.from_dict(found[key].model).called)
    return found


def pin_called_versions(session: Session, version: SequenceVersion) -> dict[str, int]:
    """The ids of the versions a run of `version` calls, pinned when it starts."""
    try:
        called = called_versions(session, SequenceModel.from_dict(version.model))
    except NotFound as error:
        raise RuleBroken(
            f"La sous-séquence « {error.details['key']} » n'est pas publiée.", code="called_sequence_unknown"
        ) from error
    return {key: v.id for key, v in called.items()}


def roles_used(session: Session, version: SequenceVersion) -> dict[str, str]:
    """Role key → kind, for the sequence and every sequence it calls."""
    roles = {k: r.kind for k, r in model_of(version).roles.items()}
    for version_id in pin_called_versions(session, version).values():
        roles.update({k: r.kind for k, r in model_of(session.get(SequenceVersion, version_id)).roles.items()})
    return roles


def model_of(version: SequenceVersion) -> SequenceModel:
    # Keyed by checksum as well: ids are reused when a test database is emptied.
    key = (version.id, version.checksum)
    model = _MODELS.get(key)
    if model is None:
        model = _MODELS[key] = SequenceModel.from_dict(version.model)
    return model


def spec_of(version: SequenceVersion):
    spec = _SPECS.get(version.checksum)
    if spec is None:
        spec = _SPECS[version.checksum] = load_spec(version.spec)
    return spec


def models_of_run(session: Session, run: Run) -> dict[str, SequenceModel]:
    """The dialect model of each process a run may be in, by process key."""
    models = {run.version.key: model_of(run.version)}
    for key, version_id in (run.called_versions or {}).items():
        models[key] = model_of(session.get(SequenceVersion, version_id))
    return models


def bundle_of_run(session: Session, run: Run) -> SpecBundle:
    called = {key: session.get(SequenceVersion, vid) for key, vid in (run.called_versions or {}).items()}
    return SpecBundle(top=spec_of(run.version), called={key: spec_of(v) for key, v in called.items()})


def version_holding(session: Session, run: Run, element_id: str) -> SequenceVersion:
    """The version whose diagram holds the element: the run's, or that of a sequence it called."""
    if element_id in model_of(run.version).elements:
        return run.version
    for version_id in (run.called_versions or {}).values():
        version = session.get(SequenceVersion, version_id)
        if version is not None and element_id in model_of(version).elements:
            return version
    return run.version
