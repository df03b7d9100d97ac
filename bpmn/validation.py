"""Validation of a sequence: every problem at once, each tied to an element, in French.

`validate` parses the file (TooLarge and Malformed propagate: the API answers 413 / 400), reads the seq:
model, runs every rule of bpmn/rules.py and bpmn/seq_rules.py, and only when the diagram is clean asks the
engine (bpmn.spec.build_spec) to build it, so SpiffWorkflow's own refusals reach the analyst as issues too;
the spec it built is kept on the report, for publication and simulation to use as is.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from lxml import etree

from bpmn import di, rules, seq_rules, vocabulary
from bpmn.dialect import SequenceModel, read_model
from bpmn.xml import parse_xml
from kernel.errors import InvalidSequence, Issue


@dataclass
class Report:
    issues: list[Issue] = field(default_factory=list)
    # What does not stop publication: a faulty layout (bpmn.di), repaired when the draft is saved.
    warnings: list[Issue] = field(default_factory=list)
    model: SequenceModel | None = None
    root: etree._Element | None = None
    spec: dict | None = None  # built by the engine when the file has no problem

    @property
    def valid(self) -> bool:
        return not self.issues


def validate(
    data: bytes,
    known_sequences: Collection[str] | None = None,
    templates: Mapping[str, str] | None = None,
    words: vocabulary.Vocabulary | None = None,
) -> Report:
    """Every problem of a BPMN file as a sequence.

    known_sequences=None skips the "called / seq:next sequence unknown" checks (drafts); at publish time
    the set of published keys is given. templates (template key -> channel, the library's latest versions)
    checks each send task's seq:template; None skips that check. words (the dictionary, bpmn.vocabulary)
    checks roles, form fields, `dossier.x` / `event.x` and their types, and awaited events; None skips it.
    """
    root = parse_xml(data)
    model = read_model(root)
    context = rules.Context.build(root, model, known_sequences)
    context.templates = templates
    context.vocabulary = words
    issues: list[Issue] = []
    for rule in (*rules.RULES, *seq_rules.RULES, *vocabulary.RULES):
        issues.extend(rule(context))
    spec = None
    if not issues:
        spec, refused = _engine_spec(data)
        issues.extend(refused)
    return Report(issues=_unique(issues), warnings=di.check(root), model=model, root=root, spec=spec)


def _engine_spec(data: bytes) -> tuple[dict | None, list[Issue]]:
    """The engine's spec of a clean file, or why the engine refuses it."""
    from bpmn.spec import build_spec  # imported late: SpiffWorkflow is not needed for the rules alone

    try:
        return build_spec(data), []
    except InvalidSequence as error:
        return None, list(error.issues)
    except Exception as error:  # noqa: BLE001 - any engine failure must become an issue, never a 500
        return None, [
            Issue(
                None,
                "engine_refused",
                "Le moteur d'exécution refuse ce diagramme alors qu'aucun problème n'a été détecté avant : "
                f"vérifiez les éléments signalés dans ce détail, ou signalez-le à l'équipe. Détail : {error}",
            )
        ]


def _unique(issues: list[Issue]) -> list[Issue]:
    return list(dict.fromkeys(issues))
