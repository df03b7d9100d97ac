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
            f"Le fichier n'est pas un XML bien formé (ligne {line}, colonne {column}) : {error.msg}. "
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
