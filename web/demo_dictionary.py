"""The demo's dictionary: the words of the rent-arrears library (web/demo_library) and of the demo's dossiers,
in French with their English labels. `sequences demo` adds those missing; an analyst's changes are kept."""

from designer import dictionary_services
from runtime.runs import running_by_version

ROLES = [
    ("gestionnaire", "Gestionnaire", "Case manager", "internal", "Pilote le dossier et ses actions."),
    ("comptable", "Comptable", "Accountant", "internal", "Rapproche les paiements reçus."),
    (
        "responsable_contentieux",
        "Responsable du contentieux",
        "Litigation manager",
        "internal",
        "Valide l'engagement d'une procédure judiciaire.",
    ),
    (
        "commissaire_justice",
        "Commissaire de justice",
        "Bailiff",
        "partner",
        "Signifie les actes (commandements, assignation, jugement) et procède à l'expulsion.",
    ),
    ("avocat", "Avocat", "Lawyer", "partner", "Rédige l'assignation et plaide à l'audience."),
    ("locataire", "Locataire", "Tenant", "contact", ""),
    ("caution", "Caution", "Guarantor", "contact", ""),
    (
        "caf",
        "CAF / MSA",
        "Family allowance fund (CAF / MSA)",
        "contact",
        "Organisme payeur de l'aide au logement.",
    ),
    (
        "ccapex",
        "CCAPEX",
        "CCAPEX (eviction prevention committee)",
        "contact",
        "Commission de coordination des actions de prévention des expulsions locatives.",
    ),
    (
        "prefecture",
        "Préfecture",
        "Prefecture",
        "contact",
        "Accorde ou refuse le concours de la force publique.",
    ),
]

FIELDS = [
    ("tenant", "Locataire", "Tenant", "text", [], ""),
    (
        "address",
        "Adresse du logement",
        "Address of the home",
        "text",
        [],
        "Avec le code postal : il choisit les jours fériés comptés.",
    ),
    (
        "departement",
        "Département",
        "Département",
        "text",
        [],
        "Facultatif : 57, 971… quand l'adresse ne suffit pas à choisir les jours fériés.",
    ),
    ("landlord", "Bailleur", "Landlord", "text", [], ""),
    (
        "landlord_kind",
        "Type de bailleur",
        "Kind of landlord",
        "choice",
        [
            ("personne_morale", "Personne morale (bailleur social, SCI…)", "Legal entity"),
            ("personne_physique", "Personne physique", "Private individual"),
        ],
        "Une personne physique saisit d'abord la CCAPEX.",
    ),
    ("balance", "Solde dû", "Balance due", "amount", [], "Montant des impayés à ce jour."),
    ("monthly_rent", "Loyer mensuel", "Monthly rent", "amount", [], "Charges comprises."),
    ("caf_beneficiary", "Allocataire CAF / MSA", "Receives housing benefit", "boolean", [], ""),
    ("has_guarantor", "Caution", "Has a guarantor", "boolean", [], ""),
    ("hearing_date", "Date d'audience", "Hearing date", "date", [], ""),
    ("montant_plan", "Montant du plan", "Amount of the plan", "amount", [], "Total à apurer par le plan."),
    ("installments", "Nombre d'échéances", "Number of installments", "number", [], ""),
    ("installment_amount", "Montant de l'échéance", "Installment amount", "amount", [], ""),
]

EVENTS = [
    (
        "paiement_recu",
        "Paiement reçu",
        "Payment received",
        [("montant", "Montant reçu", "Amount received", "amount", True)],
    ),
    (
        "plan_accepte",
        "Plan d'apurement accepté",
        "Payment plan accepted",
        [("installments", "Nombre d'échéances", "Number of installments", "number", False)],
    ),
    (
        "delais_accordes",
        "Délais accordés par le juge",
        "Time granted by the judge",
        [("months", "Durée (mois)", "Duration (months)", "number", False)],
    ),
    (
        "surendettement_recevable",
        "Dossier de surendettement recevable",
        "Over-indebtedness case admitted",
        [("commission", "Commission", "Commission", "text", False)],
    ),
    ("concours_accorde", "Concours de la force publique accordé", "Police assistance granted", []),
    ("concours_refuse", "Concours de la force publique refusé", "Police assistance refused", []),
]

OUTCOMES = [
    ("paid", "Payé", "Paid"),
    ("promise", "Promesse de paiement", "Promise to pay"),
    ("partial", "Paiement partiel", "Partial payment"),
    ("no_answer", "Sans réponse", "No answer"),
    ("plan", "Plan d'apurement demandé", "Payment plan requested"),
    ("settled", "Soldé", "Settled"),
    ("served", "Signifié", "Served"),
    ("not_found", "Destinataire introuvable", "Addressee not found"),
    ("go", "Procédure engagée", "Go ahead"),
    ("no_go", "Procédure abandonnée", "Do not proceed"),
    ("time_granted", "Délais de paiement accordés", "Time to pay granted"),
    ("eviction_ordered", "Expulsion ordonnée", "Eviction ordered"),
    ("adjourned", "Audience renvoyée", "Hearing adjourned"),
    ("rejected", "Demande rejetée", "Claim rejected"),
    ("redo_commandement", "Refaire le commandement", "Serve the order to pay again"),
    ("redo_assignation", "Refaire l'assignation", "Serve the summons again"),
    ("expired", "Délais expirés", "Time expired"),
    ("left", "Logement libéré", "Home vacated"),
    ("refused", "Expulsion refusée", "Eviction refused"),
    ("resume", "Reprendre le plan", "Resume the plan"),
    ("closed", "Clore le dossier", "Close the dossier"),
    ("last_paid", "Dernière échéance payée", "Last installment paid"),
    ("missed", "Échéance manquée", "Installment missed"),
    ("to_precontentieux", "Passer au précontentieux", "Go to pre-litigation"),
    ("to_contentieux", "Passer au contentieux", "Go to litigation"),
    ("to_expulsion", "Passer à l'expulsion", "Go to eviction"),
]


def entries() -> list[tuple[str, dict]]:
    """(kind, data) of every entry, as the dictionary's services take them."""
    found = [
        ("roles", {"key": key, "label": label, "label_en": en, "kind": kind, "help": help_})
        for key, label, en, kind, help_ in ROLES
    ]
    found += [
        (
            "fields",
            {
                "key": key,
                "label": label,
                "label_en": en,
                "type": type_,
                "choices": [{"key": k, "label": lab, "label_en": e} for k, lab, e in choices],
                "help": help_,
            },
        )
        for key, label, en, type_, choices, help_ in FIELDS
    ]
    found += [
        (
            "events",
            {
                "key": key,
                "label": label,
                "label_en": en,
                "fields": [
                    {"key": k, "label": lab, "label_en": e, "type": t, "required": required}
                    for k, lab, e, t, required in fields
                ],
            },
        )
        for key, label, en, fields in EVENTS
    ]
    found += [("outcomes", {"key": key, "label": label, "label_en": en}) for key, label, en in OUTCOMES]
    return found


def ensure_dictionary(session, user_id: int | None, now) -> int:
    """Adds the demo's entries the dictionary does not have yet, and gives its labels to those the upgrade
    filled in from the installation's diagrams and data that nobody edited since; returns how many entries
    were added or labelled. What an analyst wrote is left alone."""
    done = 0
    running = None
    for kind, data in entries():
        row = dictionary_services.find_entry(session, kind, data["key"])
        if row is None:
            dictionary_services.create_entry(session, kind, data, user_id, now)
            done += 1
            continue
        if row.updated_by is not None or any(
            c.by is not None for c in dictionary_services.changes_of(session, kind, row.key)
        ):
            continue
        running = running if running is not None else running_by_version(session)
        try:
            dictionary_services.update_entry(session, kind, row.key, data, user_id, now, running)
        except dictionary_services.EntryInUse:  # typed otherwise by running dossiers: the labels only
            kept = dictionary_services.to_dict(row)
            labels = {"label": data["label"], "label_en": data["label_en"], "help": data.get("help")}
            dictionary_services.update_entry(
                session, kind, row.key, {**kept, **labels}, user_id, now, running
            )
        done += 1
    return done
