"""Loading BPMN XML written by users: no DTD, no entities, no network, a size cap.

Files come from analysts' tools and from the API, so they are untrusted input. A BPMN file never needs a
DTD, so any DOCTYPE is refused outright: that closes external entities (XXE), entity expansion
("billion laughs") and DTD fetching in one rule, whatever lxml's defaults become.
"""

import re

from lxml import etree

from kernel.errors import Malformed, TooLarge

MAX_BYTES = 5 * 1024 * 1024
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DEFINITIONS = f"{{{BPMN_NS}}}definitions"

# Checked on the raw bytes before lxml sees them, so a DTD is never even read. NUL bytes are dropped first so
# that UTF-16 and UTF-32 files are caught too; the parsed tree's docinfo is checked again as a last guard.
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)

_NO_DTD = (
    "Le fichier contient une déclaration DOCTYPE ou ENTITY, refusée pour des raisons de sécurité : "
    "un fichier BPMN n'en a pas besoin. Enregistrez de nouveau le diagramme depuis votre outil BPMN "
    "ou supprimez la ligne <!DOCTYPE ...>."
)


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers keep an error log and are not safe to share between threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
    )


def parse_xml(data: bytes) -> etree._Element:
    """Parse an uploaded BPMN file and return its `bpmn:definitions` root element.

    Raises TooLarge above MAX_BYTES and Malformed (French message) for a DOCTYPE, XML that is not
    well-formed, or a root that is not `bpmn:definitions`.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_BYTES:
        raise TooLarge(
            f"Le fichier fait {len(data)} octets ; la taille maximale d'une séquence est de "
            f"{MAX_BYTES // (1024 * 1024)} Mo.",
            max_bytes=MAX_BYTES,
        )
    if not data.strip():
        raise Malformed("Le fichier est vide : envoyez un fichier BPMN 2.0.")
    if _DOCTYPE.search(data.replace(b"\x00", b"")):
        raise Malformed(_NO_DTD)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        line, column = error.position
        raise Malformed(
            f"Le fichier n'est pas un XML bien formé (ligne {line}, colonne {column}) : {_explain(error)}. "
            "Corrigez le fichier ou enregistrez-le de nouveau depuis votre outil BPMN.",
            line=line,
            column=column,
        ) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise Malformed(_NO_DTD)
    if root.tag != DEFINITIONS:
        qname = etree.QName(root) if isinstance(root.tag, str) else None
        found = f"{qname.localname} ({qname.namespace or 'sans espace de noms'})" if qname else "?"
        raise Malformed(
            f"Ce fichier n'est pas un fichier BPMN 2.0 : sa racine est « {found} » au lieu de "
            f"« definitions » dans l'espace de noms {BPMN_NS}. Exportez le diagramme au format BPMN 2.0."
        )
    return root


# libxml2's messages are English: the errors an analyst meets, said in French with the names they carry.
_SAID = {
    "ERR_TAG_NAME_MISMATCH": (r"mismatch: ([^\s,]+) line (\d+) and ([^\s,]+)",
                              "la balise « {0} » ouverte ligne {1} est fermée par « {2} »"),
    "ERR_TAG_NOT_FINISHED": (r"in tag ([^\s,]+)",
                             "le fichier s'arrête avant la fermeture de la balise « {0} »"
                             " (fichier tronqué ?)"),
    "ERR_GT_REQUIRED": (r"Start Tag ([^\s,]+)", "la balise « {0} » n'est pas refermée par >"),
    "ERR_DOCUMENT_END": ("", "du contenu suit la fin du document, qui n'a qu'un élément racine"),
    # libxml2 files "Start tag expected, '<' not found" under this code: text, JSON, a PDF or an archive.
    "ERR_DOCUMENT_EMPTY": ("", "le fichier ne commence pas par une balise XML : ce n'est pas un fichier BPMN "
                               "(texte, PDF, archive… ?)"),
    "ERR_DOCUMENT_START": ("", "le fichier ne commence pas par une balise XML : ce n'est pas un fichier "
                               "BPMN"),
    "ERR_COMMENT_NOT_FINISHED": ("", "un commentaire <!-- n'est pas refermé par -->"),
    "ERR_LTSLASH_REQUIRED": ("", "une balise fermante </…> est attendue ici"),
    "ERR_SPACE_REQUIRED": ("", "un espace manque entre deux attributs"),
    "ERR_EQUAL_REQUIRED": ("", "un = manque entre le nom d'un attribut et sa valeur"),
    "ERR_ATTRIBUTE_NOT_STARTED": ("", "la valeur d'un attribut doit être entre guillemets"),
    "ERR_ATTRIBUTE_WITHOUT_VALUE": (r"Specification mandates value for attribute ([^\s,]+)",
                                    "l'attribut « {0} » n'a pas de valeur"),
    "ERR_ATTRIBUTE_REDEFINED": (r"Attribute ([^\s,]+) redefined", "l'attribut « {0} » est écrit deux fois"),
    "ERR_ATTRIBUTE_NOT_FINISHED": ("", "la valeur d'un attribut n'est pas refermée par un guillemet"),
    "ERR_LT_IN_ATTRIBUTE": ("", "le caractère < est interdit dans la valeur d'un attribut (écrivez &lt;)"),
    "ERR_UNDECLARED_ENTITY": (r"Entity '([^']+)'",
                              "l'entité « &{0}; » n'existe pas (écrivez &amp; pour un &)"),
    "ERR_NAME_REQUIRED": ("", "un & seul doit être écrit &amp;"),
    "ERR_ENTITYREF_SEMICOL_MISSING": ("", "un & seul doit être écrit &amp;"),
    "ERR_INVALID_CHAR": ("", "le fichier contient un caractère interdit en XML"),
    "ERR_STRING_NOT_CLOSED": ("", "une valeur entre guillemets n'est pas refermée"),
    "ERR_INVALID_ENCODING": ("", "le fichier n'est pas dans l'encodage qu'il annonce (UTF-8 attendu)"),
    "NS_ERR_UNDEFINED_NAMESPACE": (r"prefix ([^\s,]+) on ([^\s,]+)",
                                   "le préfixe « {0} » de la balise « {1} » n'est pas déclaré (xmlns:{0} "
                                   "manque dans l'en-tête du fichier)"),
}


def _explain(error: etree.XMLSyntaxError) -> str:
    """What is wrong, in French; never libxml2's English text (the line and column are given beside)."""
    name = etree.ErrorTypes._getName(error.code, "")
    if name == "ERR_NAME_REQUIRED" and not (error.msg or "").startswith("xmlParseEntityRef"):
        return "un nom de balise ou d'attribut est attendu ici (caractère < ou espace en trop ?)"
    pattern, text = _SAID.get(name, ("", ""))
    found = re.search(pattern, error.msg or "") if pattern else None
    if not text or (pattern and found is None):
        return "la syntaxe XML est incorrecte à cet endroit"
    return text.format(*(g for g in (found.groups() if found else ()) if g is not None))
