"""Structural validation rules: processes, references, supported elements, start events and flows.

Each rule takes the shared Context and yields Issues; rules never stop at the first problem, so an analyst
who imports a diagram from another tool gets the whole list at once. The seq: dialect rules (roles, timers,
conditions, communications) live in bpmn/seq_rules.py.
"""

from collections import Counter, defaultdict
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from bpmn.di import model_elements
from bpmn.dialect import (
    ACTIVITIES,
    FLOW_NODES,
    SUB_PROCESSES,
    SequenceModel,
    bpmn,
    has_content,
    is_executable,
    local,
    main_process,
    pool_names,
    processes,
    ref,
)
from kernel.errors import Issue

GATEWAYS = frozenset(
    {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
)

_NOUNS = {
    "userTask": "la tâche",
    "sendTask": "l'envoi",
    "task": "la tâche",
    "manualTask": "la tâche manuelle",
    "serviceTask": "la tâche de service",
    "scriptTask": "la tâche de script",
    "businessRuleTask": "la tâche de règle métier",
    "receiveTask": "la tâche de réception",
    "callActivity": "l'appel de séquence",
    "subProcess": "le sous-processus",
    "transaction": "la transaction",
    "adHocSubProcess": "le sous-processus ad hoc",
    "startEvent": "le début",
    "endEvent": "la fin",
    "intermediateCatchEvent": "l'événement intermédiaire",
    "intermediateThrowEvent": "l'événement intermédiaire",
    "boundaryEvent": "l'événement attaché",
    "exclusiveGateway": "la passerelle exclusive",
    "inclusiveGateway": "la passerelle inclusive",
    "parallelGateway": "la passerelle parallèle",
    "eventBasedGateway": "la passerelle sur événements",
    "complexGateway": "la passerelle complexe",
    "lane": "le couloir",
    "sequenceFlow": "le flux",
    "process": "le processus",
    "message": "le message",
}


def describe(element: etree._Element, capital: bool = False) -> str:
    """ "la tâche « Relancer » (Task_1)": what the analyst sees in the editor, then the id to search for."""
    noun = _NOUNS.get(local(element), "l'élément")
    name = " ".join((element.get("name") or "").split())
    text = noun + (f" « {name} »" if name else "") + f" ({element.get('id') or 'sans identifiant'})"
    return text[0].upper() + text[1:] if capital else text


def describe_of(element: etree._Element) -> str:
    """The same after "de": "du début (Start_1)", "de la tâche ...", "de l'envoi ..."."""
    text = describe(element)
    return "du " + text[3:] if text.startswith("le ") else "de " + text


def pronoun(element: etree._Element) -> str:
    """ "la" or "le", to say "placez-la" of a task and "placez-le" of a send task."""
    return "la" if _NOUNS.get(local(element), "").startswith("la ") else "le"


@dataclass
class Context:
    """The parsed file and the indexes every rule needs, built once."""

    root: etree._Element
    model: SequenceModel
    known_sequences: Collection[str] | None = None
    templates: Mapping[str, str] | None = None  # template key -> channel, when the library is known
    vocabulary: Any = None  # bpmn.vocabulary.Vocabulary: the dictionary, when it is known
    process: etree._Element | None = None
    nodes: dict[str, etree._Element] = field(default_factory=dict)
    flows: dict[str, etree._Element] = field(default_factory=dict)
    incoming: dict[str, list[etree._Element]] = field(default_factory=lambda: defaultdict(list))
    outgoing: dict[str, list[etree._Element]] = field(default_factory=lambda: defaultdict(list))
    ids: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, root: etree._Element, model: SequenceModel, known: Collection[str] | None) -> "Context":
        context = cls(root=root, model=model, known_sequences=known, process=main_process(root))
        context.ids = {element.get("id") for element in model_elements(root)} - {None}
        if context.process is None:
            return context
        for element in context.process.iter():
            tag = local(element)
            if tag in FLOW_NODES and element.get("id"):
                context.nodes[element.get("id")] = element
            elif tag == "sequenceFlow" and element.get("id"):
                context.flows[element.get("id")] = element
        for flow in context.flows.values():
            context.outgoing[ref(flow.get("sourceRef")) or ""].append(flow)
            context.incoming[ref(flow.get("targetRef")) or ""].append(flow)
        return context

    def of(self, *tags: str) -> Iterator[etree._Element]:
        return (node for node in self.nodes.values() if local(node) in tags)


def check_processes(ctx: Context) -> Iterator[Issue]:
    found = processes(ctx.root)
    if not found:
        yield Issue(
            None,
            "no_executable",
            "Le fichier ne contient aucun processus : dessinez la séquence dans un processus et marquez-le "
            "« exécutable ».",
        )
        return
    executable = [process for process in found if is_executable(process)]
    drawn = [process for process in found if has_content(process)]
    if not executable and len(drawn) > 1:
        names = pool_names(ctx.root)
        pools = ", ".join(
            (f"« {names[p.get('id')]} » ({p.get('id')})" if p.get("id") in names else describe(p))
            for p in drawn
        )
        yield Issue(
            None,
            "several_pools",
            f"Le fichier contient {len(drawn)} bassins (pools) dessinés : {pools}. Une séquence n'en exécute "
            "qu'un : cochez « Exécutable » sur celui qui porte la séquence ; les autres restent des dessins.",
        )
        return
    if not executable and ctx.process is not None:
        others = (
            f" Le fichier contient {len(found)} processus : un seul porte la séquence."
            if len(found) > 1
            else ""
        )
        yield Issue(
            ctx.process.get("id"),
            "not_executable",
            f"{describe(ctx.process, True)} n'est pas marqué exécutable : cochez « Exécutable » "
            f'(isExecutable="true") dans ses propriétés.{others}',
        )
    chosen = ctx.process
    for process in executable:
        if chosen is None or process is chosen:
            continue
        yield Issue(
            process.get("id"),
            "several_executable",
            f"{describe(process, True)} est aussi marqué exécutable, comme {describe(chosen)} : une "
            "séquence n'a qu'un processus exécutable. Décochez « Exécutable » sur les autres ou faites-en "
            "des séquences séparées.",
        )


# The engine names its own start and end tasks so; a BPMN element with one of these ids would collide.
RESERVED_IDS = {"Start", "End", "Root"}


def check_ids(ctx: Context) -> Iterator[Issue]:
    # Only the model's ids: vendors' extensions and the layout (bpmndi) have ids of their own (di.check).
    counts = Counter(element.get("id") for element in model_elements(ctx.root))
    for element_id in sorted(RESERVED_IDS & set(counts)):
        yield Issue(element_id, "reserved_id",
                    f"L'identifiant {element_id} est réservé par le moteur : renommez l'élément "
                    f"(par exemple {element_id}Event_1).")
    for element_id, count in counts.items():
        if element_id and count > 1:
            yield Issue(
                element_id,
                "duplicate_id",
                f"L'identifiant {element_id} est utilisé par {count} éléments : donnez à chacun un "
                "identifiant unique.",
            )


def _dangling(element: etree._Element, what: str, target: str | None) -> Issue:
    if target:
        text = f"{describe(element, True)} désigne {what} {target}, qui n'existe pas dans le processus"
    else:
        text = f"{describe(element, True)} n'indique pas {what}"
    return Issue(element.get("id"), "dangling_reference", f"{text} : reliez-le de nouveau dans l'éditeur.")


def check_references(ctx: Context) -> Iterator[Issue]:
    if ctx.process is None:
        return
    for flow in ctx.flows.values():
        for attribute, what in (
            ("sourceRef", "comme origine l'élément"),
            ("targetRef", "comme cible l'élément"),
        ):
            target = ref(flow.get(attribute))
            if target not in ctx.nodes:
                yield _dangling(flow, what, target)
    for event in ctx.of("boundaryEvent"):
        target = ref(event.get("attachedToRef"))
        if target not in ctx.nodes or local(ctx.nodes[target]) not in ACTIVITIES:
            yield _dangling(event, "comme activité porteuse", target)
    messages = {message.get("id"): message for message in ctx.root.iter(bpmn("message"))}
    reported: set[str] = set()
    for definition in ctx.process.iter(bpmn("messageEventDefinition")):
        event = definition.getparent()
        target = ref(definition.get("messageRef"))
        if local(event) not in ("intermediateCatchEvent", "boundaryEvent", "eventBasedGateway"):
            continue  # throwing a message is refused as unsupported; its reference does not matter
        if target is None or target not in messages:
            yield _dangling(event, "le message (bpmn:message) attendu", target)
        elif not (messages[target].get("name") or "").strip() and target not in reported:
            reported.add(target)
            yield Issue(
                target,
                "message_without_name",
                f"{describe(messages[target], True)} n'a pas de nom : donnez-lui le nom de l'événement "
                "métier attendu (par exemple paiement_recu).",
            )
    for lane in ctx.process.iter(bpmn("lane")):
        for node_ref in lane.findall(bpmn("flowNodeRef")):
            target = (node_ref.text or "").strip()
            if target and target not in ctx.ids:
                yield _dangling(lane, "l'élément", target)
    for gateway in ctx.of("exclusiveGateway", "inclusiveGateway", "complexGateway"):
        default = ref(gateway.get("default"))
        if default and default not in {flow.get("id") for flow in ctx.outgoing[gateway.get("id")]}:
            yield _dangling(gateway, "comme branche par défaut le flux sortant", default)


_REFUSED_TAGS = {
    "task": "n'a pas de type : utilisez une tâche utilisateur (une action pour un rôle) ou une tâche d'envoi "
    "(un courrier, un e-mail, un SMS)",
    "manualTask": "n'est pas suivie par l'application : utilisez une tâche utilisateur ou d'envoi",
    "scriptTask": "est refusée : les scripts ne sont pas permis ; utilisez une tâche utilisateur ou d'envoi, "
    "et des conditions sur les branches",
    "serviceTask": "n'est pas prise en charge : utilisez une tâche utilisateur ou d'envoi",
    "businessRuleTask": "n'est pas prise en charge : utilisez une passerelle exclusive avec des conditions",
    "receiveTask": "n'est pas prise en charge : pour attendre un événement métier, utilisez un événement "
    "intermédiaire de message",
    "complexGateway": "n'est pas prise en charge : utilisez une passerelle exclusive, inclusive ou parallèle",
    "adHocSubProcess": "n'est pas pris en charge : utilisez un sous-processus simple",
    "transaction": "n'est pas prise en charge : utilisez un sous-processus simple",
}
_REFUSED_EVENTS = {
    "signalEventDefinition": "de signal",
    "escalationEventDefinition": "d'escalade",
    "compensateEventDefinition": "de compensation",
    "conditionalEventDefinition": "conditionnel",
    "errorEventDefinition": "d'erreur",
    "cancelEventDefinition": "d'annulation",
    "linkEventDefinition": "de lien",
}
# What to draw instead of an error, signal, escalation... event: what the runtime supports at that place.
_THROW_ADVICE = (
    "pour finir, utilisez une fin simple ; pour arrêter tout de suite en annulant les actions ouvertes, une "
    "fin de terminaison ; pour enchaîner sur une autre séquence, une fin simple avec seq:next"
)
_CATCH_ADVICE = (
    "pour attendre un fait extérieur, utilisez un événement de message (un événement métier) ; pour un "
    "délai, une minuterie ; pour réagir au résultat d'une tâche, ses résultats (seq:outcomes)"
    " et une passerelle"
)
_ADVICE = {
    "endEvent": _THROW_ADVICE,
    "intermediateThrowEvent": _THROW_ADVICE,
    "boundaryEvent": _CATCH_ADVICE,
    "intermediateCatchEvent": _CATCH_ADVICE,
    "startEvent": "une séquence démarre seulement quand on la lance, utilisez un début simple",
}
# Tool-specific hooks (SpiffArena, Camunda) that would run code around a task; never run, so refused.
_SCRIPT_EXTENSIONS = frozenset({"preScript", "postScript", "script", "executionListener", "taskListener"})
_WAITS = {"timerEventDefinition", "messageEventDefinition"}


def _unsupported(element: etree._Element, reason: str) -> Issue:
    return Issue(element.get("id"), "unsupported_element", f"{describe(element, True)} {reason}.")


def check_unsupported(ctx: Context) -> Iterator[Issue]:
    for node in ctx.nodes.values():
        tag = local(node)
        if tag in _REFUSED_TAGS:
            yield _unsupported(node, _REFUSED_TAGS[tag])
        if tag == "subProcess" and (node.get("triggeredByEvent") or "").lower() == "true":
            yield _unsupported(
                node,
                "est un sous-processus d'événement, non pris en charge : utilisez un "
                "événement attaché à l'activité concernée",
            )
        if any(local(child).endswith("LoopCharacteristics") for child in node):
            yield _unsupported(
                node,
                "se répète (boucle ou instances multiples), ce qui n'est pas pris en "
                "charge : dessinez la boucle avec une passerelle exclusive",
            )
        yield from _check_event(node, tag)
        for extension in node.iterfind(f"{bpmn('extensionElements')}//*"):
            name = etree.QName(extension).localname if isinstance(extension.tag, str) else ""
            if name in _SCRIPT_EXTENSIONS:
                yield _unsupported(
                    node,
                    f"contient un script ou un écouteur ({name}), que l'application "
                    "n'exécute pas : retirez-le de l'onglet des extensions",
                )
                break
    if ctx.process is not None:
        for gateway in ctx.of("eventBasedGateway"):
            for flow in ctx.outgoing[gateway.get("id")]:
                target = ctx.nodes.get(ref(flow.get("targetRef")) or "")
                kinds = {local(child) for child in target} if target is not None else set()
                if target is not None and (local(target) != "intermediateCatchEvent" or not kinds & _WAITS):
                    yield Issue(
                        gateway.get("id"),
                        "unsupported_element",
                        f"{describe(gateway, True)} mène à {describe(target)} : après une passerelle sur "
                        "événements, placez des événements intermédiaires de minuterie ou de message.",
                    )


def _check_event(node: etree._Element, tag: str) -> Iterator[Issue]:
    definitions = [local(child) for child in node if local(child).endswith("EventDefinition")]
    for definition in definitions:
        if definition in _REFUSED_EVENTS:
            kind = _REFUSED_EVENTS[definition]
            advice = _ADVICE.get(tag, _CATCH_ADVICE)
            yield _unsupported(node, f"utilise un événement {kind}, non pris en charge : {advice}")
    if len(definitions) > 1:
        yield _unsupported(node, "combine plusieurs déclencheurs : gardez-en un seul par événement")
    if tag == "startEvent" and definitions:
        yield _unsupported(
            node,
            "attend un déclencheur : une séquence démarre seulement quand on la lance, "
            "retirez la minuterie ou le message de ce début",
        )
    if tag in ("intermediateThrowEvent", "endEvent") and "messageEventDefinition" in definitions:
        yield _unsupported(
            node, "envoie un message : pour écrire à un intervenant, utilisez une tâche d'envoi"
        )
    if tag in ("intermediateCatchEvent", "boundaryEvent") and not definitions:
        yield _unsupported(node, "n'attend rien : choisissez une minuterie ou un message")


def check_starts(ctx: Context) -> Iterator[Issue]:
    if ctx.process is None:
        return
    scopes = [ctx.process, *ctx.of(*SUB_PROCESSES)]
    for scope in scopes:
        if (scope.get("triggeredByEvent") or "").lower() == "true":
            continue
        starts = scope.findall(bpmn("startEvent"))
        if not starts:
            yield Issue(
                scope.get("id"),
                "no_start_event",
                f"{describe(scope, True)} n'a pas d'événement de début : ajoutez un début (cercle simple) "
                "relié à la première étape.",
            )
        for start in starts[1:]:
            yield Issue(
                start.get("id"),
                "several_start_events",
                f"{describe(start, True)} est un second début dans {describe(scope)} : gardez un seul début "
                "et utilisez une passerelle parallèle pour lancer plusieurs branches.",
            )


def check_flows(ctx: Context) -> Iterator[Issue]:
    for node_id, node in ctx.nodes.items():
        tag = local(node)
        if tag not in GATEWAYS and len(ctx.outgoing[node_id]) > 1:
            yield Issue(
                node_id,
                "several_outgoing_flows",
                f"{describe(node, True)} a {len(ctx.outgoing[node_id])} flux sortants : ajoutez juste "
                "après une passerelle exclusive (choisir une branche) ou parallèle (suivre toutes les "
                "branches).",
            )
        in_event_sub_process = any(
            (parent.get("triggeredByEvent") or "").lower() == "true" for parent in node.iterancestors()
        )
        if (
            tag not in ("startEvent", "boundaryEvent")
            and not ctx.incoming[node_id]
            and not in_event_sub_process
        ):
            yield Issue(
                node_id,
                "unreachable",
                f"{describe(node, True)} n'a aucun flux entrant, il ne sera jamais atteint : reliez-le à "
                "l'étape précédente ou supprimez-le.",
            )


def check_called(ctx: Context) -> Iterator[Issue]:
    key, known = ctx.model.key, ctx.known_sequences
    for activity in ctx.of("callActivity"):
        called = (activity.get("calledElement") or "").strip()
        if not called:
            yield Issue(
                activity.get("id"),
                "missing_called_element",
                f"{describe(activity, True)} n'indique pas la séquence à lancer : renseignez sa clé "
                "(calledElement).",
            )
        elif called == key:
            yield Issue(
                activity.get("id"),
                "recursive_call",
                f"{describe(activity, True)} lance la séquence elle-même ({key}) : une séquence ne peut pas "
                "s'appeler ; dessinez une boucle avec une passerelle.",
            )
        elif known is not None and called not in known:
            yield Issue(
                activity.get("id"),
                "called_sequence_unknown",
                f"{describe(activity, True)} lance la séquence « {called} », qui n'est pas publiée : "
                "publiez-la d'abord ou corrigez la clé.",
            )
    for end in ctx.of("endEvent"):
        following = (end.get("{urn:sequences:bpmn:1}next") or "").strip()
        if following and known is not None and following not in known and following != key:
            yield Issue(
                end.get("id"),
                "next_sequence_unknown",
                f"{describe(end, True)} enchaîne sur la séquence « {following} » (seq:next), qui n'est pas "
                "publiée : publiez-la d'abord ou corrigez la clé.",
            )


# What the columns that receive them hold (designer/models.py, runtime/models.py): the process's name is
# the sequence's, an activity's is its actions'; longer, the database would refuse it at run time.
LIMITS = {"id": 200, "name": 300, "{urn:sequences:bpmn:1}role": 100}
_WHAT = {"id": "L'identifiant", "name": "Le nom", "{urn:sequences:bpmn:1}role": "Le rôle (seq:role)"}


def check_lengths(ctx: Context) -> Iterator[Issue]:
    for element in ctx.root.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute, limit in LIMITS.items():
            value = element.get(attribute) or ""
            if len(value) > limit:
                # Named by its kind and id only: the long value itself would drown the message.
                element_id = element.get("id") or ""
                shown = element_id if len(element_id) <= 60 else element_id[:60] + "…"
                yield Issue(
                    element_id or None,
                    f"{attribute.rpartition('}')[2]}_too_long",
                    f"{_WHAT[attribute]} de {_NOUNS.get(local(element), 'l’élément')} {shown} fait "
                    f"{len(value)} caractères, {limit} au plus : raccourcissez-le.",
                )


RULES = (
    check_processes,
    check_ids,
    check_lengths,
    check_references,
    check_unsupported,
    check_starts,
    check_flows,
    check_called,
)
