"""Validation of a sequence: every problem at once, each tied to an element, in French.

`validate` parses the file (TooLarge and Malformed propagate: the API answers 413 / 400), reads the seq:
model, runs every rule of bpmn/rules.py and bpmn/seq_rules.py, and only when the diagram is clean asks the
engine (bpmn.spec.build_spec) to build it, so SpiffWorkflow's own refusals reach the analyst as issues too.
"""

from collections.abc import Collection
from dataclasses import dataclass, field

from lxml import etree

from bpmn import rules, seq_rules
from bpmn.dialect import SequenceModel, read_model
from bpmn.xml import parse_xml
from kernel.errors import InvalidSequence, Issue


@dataclass
class Report:
    issues: list[Issue] = field(default_factory=list)
    model: SequenceModel | None = None
    root: etree._Element | None = None

    @property
    def valid(self) -> bool:
        return not self.issues


def validate(data: bytes, known_sequences: Collection[str] | None = None) -> Report:
    """Every problem of a BPMN file as a sequence.

    known_sequences=None skips the "called / seq:next sequence unknown" checks (drafts); at publish time
    the set of published keys is given.
    """
    root = parse_xml(data)
    model = read_model(root)
    context = rules.Context.build(root, model, known_sequences)
    issues: list[Issue] = []
    for rule in (*rules.RULES, *seq_rules.RULES):
        issues.extend(rule(context))
    if not issues:
        issues.extend(_engine_issues(data))
    return Report(issues=_unique(issues), model=model, root=root)


def _engine_issues(data: bytes) -> list[Issue]:
    from bpmn import spec  # imported late: spec imports SpiffWorkflow, which validation alone does not need

    build_spec = getattr(spec, "build_spec", None)
    if build_spec is None:
        return []
    try:
        build_spec(data)
    except InvalidSequence as error:
        return list(error.issues)
    except Exception as error:  # noqa: BLE001 - any engine failure must become an issue, never a 500
        return [
            Issue(
                None,
                "engine_refused",
                "Le moteur d'exécution refuse ce diagramme alors qu'aucun problème n'a été détecté avant : "
                f"vérifiez les éléments signalés dans ce détail, ou signalez-le à l'équipe. Détail : {error}",
            )
        ]
    return []


def _unique(issues: list[Issue]) -> list[Issue]:
    return list(dict.fromkeys(issues))
