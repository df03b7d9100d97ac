"""Validation rules of the seq: dialect (README, "Writing sequences"): roles, seq: attributes, communications,
durations and timers, branch conditions and the outcomes they test."""

from collections.abc import Iterator, Mapping

from lxml import etree

from bpmn import expressions
from bpmn.dialect import SEQ_NS, bpmn, local, read_timer, ref, seq
from bpmn.durations import CALENDARS, PERIODS, parse_cycle, parse_date_time, parse_duration
from bpmn.rules import Context, describe, describe_of, pronoun
from kernel.errors import Issue

ATTRIBUTES = {
    "lane": ("role", "roleKind"),
    "userTask": ("action", "outcomes", "due", "calendar", "notDuring", "show", "fill"),
    "sendTask": ("channel", "template"),
    "boundaryEvent": ("calendar", "notDuring"),
    "intermediateCatchEvent": ("calendar", "notDuring"),
    "endEvent": ("next",),
}
VALUES = {
    "roleKind": ("internal", "partner", "contact"),
    "action": ("task", "reminder", "validation"),
    "calendar": CALENDARS,
    "notDuring": PERIODS,
    "channel": ("email", "letter", "sms"),
}
ACTION_TAGS = ("userTask", "sendTask")


def check_roles(ctx: Context) -> Iterator[Issue]:
    if ctx.process is None:
        return
    kinds: dict[str, tuple[str, etree._Element]] = {}
    in_lane: set[str] = set()
    for lane in ctx.process.iter(bpmn("lane")):
        in_lane.update((r.text or "").strip() for r in lane.findall(bpmn("flowNodeRef")))
        role = (lane.get(seq("role")) or "").strip()
        has_children = lane.find(f"{bpmn('childLaneSet')}/{bpmn('lane')}") is not None
        if not role:
            if not has_children:
                yield Issue(
                    lane.get("id"),
                    "lane_without_role",
                    f"{describe(lane, True)} n'a pas de rôle : choisissez le rôle qui agit dans ce couloir "
                    '(attribut seq:role, par exemple "gestionnaire").',
                )
            continue
        kind = (lane.get(seq("roleKind")) or "internal").strip()
        if role in kinds and kinds[role][0] != kind:
            yield Issue(
                lane.get("id"),
                "role_kind_conflict",
                f"{describe(lane, True)} déclare le rôle « {role} » comme {kind}, alors que "
                f"{describe(kinds[role][1])} le déclare comme {kinds[role][0]} : donnez-lui la même nature "
                "partout.",
            )
        kinds.setdefault(role, (kind, lane))
    for node in ctx.of(*ACTION_TAGS):
        element = ctx.model.elements.get(node.get("id"))
        if element is None:
            continue
        if element.role is None and element.id not in in_lane:
            yield Issue(
                element.id,
                "action_outside_lane",
                f"{describe(node, True)} n'est dans aucun couloir : placez-{pronoun(node)} dans le couloir "
                "du rôle qui doit agir.",
            )
        role = ctx.model.roles.get(element.role or "")
        if local(node) == "userTask" and role is not None and role.kind == "contact":
            yield Issue(
                element.id,
                "contact_role_user_task",
                f"{describe(node, True)} est confiée au rôle « {role.key} », un contact : un contact ne se "
                "connecte jamais et ne reçoit que des communications. Utilisez une tâche d'envoi, ou placez "
                "la tâche dans le couloir d'un rôle interne ou partenaire.",
            )


def check_seq_attributes(ctx: Context) -> Iterator[Issue]:
    for element in ctx.root.iter():
        if not isinstance(element.tag, str):
            continue
        if etree.QName(element).namespace == SEQ_NS:
            parent = element.getparent()
            yield Issue(
                _nearest_id(element),
                "unknown_seq_value",
                f"L'élément seq:{etree.QName(element).localname} dans "
                f"{describe(parent) if parent is not None else 'le fichier'} est inconnu : retirez-le.",
            )
            continue
        allowed = ATTRIBUTES.get(local(element), ())
        for name, value in element.attrib.items():
            qname = etree.QName(name)
            if qname.namespace != SEQ_NS:
                continue
            attribute = qname.localname
            if attribute not in allowed:
                hint = f" (ici : {', '.join('seq:' + a for a in allowed)})" if allowed else ""
                yield Issue(
                    _nearest_id(element),
                    "unknown_seq_value",
                    f"L'attribut seq:{attribute} n'a pas de sens sur {describe(element)} : retirez-le{hint}.",
                )
            elif attribute in VALUES and value.strip() not in VALUES[attribute]:
                yield Issue(
                    _nearest_id(element),
                    "unknown_seq_value",
                    f"{describe(element, True)} a seq:{attribute}=« {value} », valeur inconnue : choisissez "
                    f"parmi {', '.join(VALUES[attribute])}.",
                )


def _nearest_id(element: etree._Element) -> str | None:
    # Report on something the editor can select, even for a stray element without an id.
    current: etree._Element | None = element
    while current is not None:
        if isinstance(current.tag, str) and current.get("id"):
            return current.get("id")
        current = current.getparent()
    return None


CHANNELS = {"email": "e-mail", "letter": "courrier", "sms": "SMS"}


def check_send_tasks(ctx: Context) -> Iterator[Issue]:
    for node in ctx.of("sendTask"):
        channel = (node.get(seq("channel")) or "").strip()
        template = (node.get(seq("template")) or "").strip()
        if not channel:
            yield Issue(
                node.get("id"),
                "missing_channel",
                f"{describe(node, True)} n'a pas de canal : choisissez email, letter ou sms (seq:channel).",
            )
        if not template:
            yield Issue(
                node.get("id"),
                "missing_template",
                f"{describe(node, True)} n'a pas de modèle de document : indiquez-le dans seq:template "
                '(par exemple "mise_en_demeure").',
            )
        elif ctx.templates is not None:
            yield from _check_template(node, template, channel, ctx.templates)


def _check_template(
    node: etree._Element, key: str, channel: str, templates: Mapping[str, str]
) -> Iterator[Issue]:
    # The run would stop at this communication: the library is checked when the sequence is validated.
    what = CHANNELS.get(channel)
    known = _known(templates, channel)
    if key not in templates:
        choice = f"choisissez un modèle connu ({known}) ou créez" if known else "créez"
        yield Issue(
            node.get("id"),
            "unknown_template",
            f"{describe(node, True)} utilise le modèle « {key} », qui n'existe pas dans la bibliothèque des "
            f"modèles : {choice} « {key} » avant de publier.",
        )
    elif what is not None and templates[key] != channel:
        choice = f"choisissez un modèle {what} ({known})" if known else f"créez un modèle {what}"
        yield Issue(
            node.get("id"),
            "template_channel_mismatch",
            f"{describe(node, True)} envoie un {what} avec le modèle « {key} », qui est écrit pour le canal "
            f"{CHANNELS.get(templates[key], templates[key])} : {choice} ou changez le canal.",
        )


def _known(templates: Mapping[str, str], channel: str, shown: int = 10) -> str:
    """The templates written for the send task's channel (all of them for an unknown channel)."""
    fitting = sorted(
        key for key, written_for in templates.items() if channel not in CHANNELS or written_for == channel
    )
    more = f" et {len(fitting) - shown} autre(s)" if len(fitting) > shown else ""
    return ", ".join(fitting[:shown]) + more


def check_durations(ctx: Context) -> Iterator[Issue]:
    for node in ctx.of("userTask"):
        due = (node.get(seq("due")) or "").strip()
        problem = _duration_problem(due) if due else None
        if problem:
            yield Issue(
                node.get("id"), "invalid_duration", f"L'échéance (seq:due) {describe_of(node)} : {problem}"
            )
    for node in ctx.nodes.values():
        timer = read_timer(node)
        if timer is None:
            continue
        kind, value = timer["kind"], timer["value"]
        if not value:
            yield Issue(
                node.get("id"),
                "timer_without_value",
                f"La minuterie {describe_of(node)} n'a pas de valeur : indiquez une durée (P15D), une date "
                "(2026-01-31T09:00:00Z ou une expression) ou un cycle (R3/P7D).",
            )
        elif kind == "duration" and (problem := _duration_problem(value)):
            yield Issue(node.get("id"), "invalid_duration", f"La minuterie {describe_of(node)} : {problem}")
        elif kind == "cycle":
            yield from _check_cycle(node, value)
        elif kind == "date":
            yield from _check_time_date(node, value)


def _duration_problem(text: str) -> str | None:
    try:
        duration = parse_duration(text)
    except ValueError as error:
        return str(error)
    if duration.negative:
        return f"la durée « {text} » est négative : écrivez une durée positive, par exemple P15D."
    return None


def _check_cycle(node: etree._Element, value: str) -> Iterator[Issue]:
    try:
        parse_cycle(value)
    except ValueError as error:
        yield Issue(node.get("id"), "invalid_duration", f"La minuterie {describe_of(node)} : {error}")
        return
    if local(node) != "boundaryEvent":
        yield Issue(
            node.get("id"),
            "unsupported_element",
            f"La minuterie répétée {describe_of(node)} n'est prise en charge que sur un événement attaché à "
            "une tâche : utilisez une durée, ou attachez l'événement à la tâche à relancer.",
        )


def _check_time_date(node: etree._Element, value: str) -> Iterator[Issue]:
    try:
        parse_date_time(value)
        return
    except ValueError:
        pass
    try:
        expressions.check(value)
    except expressions.ExpressionError as error:
        yield Issue(
            node.get("id"),
            "invalid_time_date",
            f"La date de la minuterie {describe_of(node)} n'est ni une date ISO (2026-01-31T09:00:00Z) ni "
            f"une expression valide : {error.message}",
        )


def check_conditions(ctx: Context) -> Iterator[Issue]:
    for gateway in ctx.of("exclusiveGateway", "inclusiveGateway"):
        outgoing = ctx.outgoing[gateway.get("id")]
        default = ref(gateway.get("default"))
        if len(outgoing) < 2:
            continue
        for flow in outgoing:
            if flow.get("id") != default and not _condition(flow):
                yield Issue(
                    flow.get("id"),
                    "branch_without_condition",
                    f"{describe(flow, True)}, qui sort {describe_of(gateway)}, n'a pas de condition : "
                    'écrivez une condition (par exemple outcome == "paid") ou faites-en la branche par '
                    "défaut.",
                )
    for flow in ctx.flows.values():
        text = _condition(flow)
        if not text:
            continue
        try:
            expressions.check(text)
        except expressions.ExpressionError as error:
            yield Issue(
                flow.get("id"),
                "invalid_condition",
                f"La condition {describe_of(flow)} est refusée : {error.message}",
            )
            continue
        yield from _check_references(ctx, flow, text)


def _condition(flow: etree._Element) -> str:
    condition = flow.find(bpmn("conditionExpression"))
    return (condition.text or "").strip() if condition is not None else ""


def _check_references(ctx: Context, flow: etree._Element, text: str) -> Iterator[Issue]:
    for read_id in dict.fromkeys(expressions.action_references(text)):
        node = ctx.nodes.get(read_id)
        if node is None or local(node) not in ACTION_TAGS:
            yield Issue(
                flow.get("id"),
                "invalid_action_reference",
                f'La condition {describe_of(flow)} lit actions["{read_id}"], mais aucune tâche du '
                "processus n'a cet identifiant : utilisez l'identifiant d'une tâche utilisateur ou d'envoi.",
            )
    for action_id, outcome in expressions.outcome_references(text):
        allowed = _possible_outcomes(ctx, flow, action_id)
        if allowed is not None and outcome not in allowed:
            yield Issue(
                flow.get("id"),
                "invalid_outcome_reference",
                f"La condition {describe_of(flow)} teste le résultat « {outcome} », qu'aucune tâche "
                f"précédente ne propose (résultats possibles : {', '.join(sorted(allowed))}) : corrigez la "
                "condition ou ajoutez ce résultat à seq:outcomes.",
            )


def _possible_outcomes(ctx: Context, flow: etree._Element, action_id: str | None) -> set[str] | None:
    """The outcomes a condition can meet, or None when they cannot be known statically."""
    if action_id is not None:
        element = ctx.model.elements.get(action_id)
        return set(element.outcomes) if element is not None and element.outcomes else None
    # `outcome` is the last completed action's: only judged when the gateway directly follows user tasks
    # that all declare their outcomes; anything else (timers, joins of other elements) is left alone.
    source = ref(flow.get("sourceRef")) or ""
    if (
        local(ctx.nodes[source]) not in ("exclusiveGateway", "inclusiveGateway")
        if source in ctx.nodes
        else True
    ):
        return None
    predecessors = [ctx.model.elements.get(ref(f.get("sourceRef")) or "") for f in ctx.incoming[source]]
    if not predecessors or any(p is None or p.tag != "userTask" or not p.outcomes for p in predecessors):
        return None
    return {outcome for p in predecessors if p is not None for outcome in p.outcomes}


RULES = (check_roles, check_seq_attributes, check_send_tasks, check_durations, check_conditions)
