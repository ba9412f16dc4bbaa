"""The UI strings of the resident app and the scanner.

The front end's strings are marked in incentives/static/web/strings.js and translated
through Django's JavaScript catalogue (djangojs); its error messages come from the
error-code registry (core.errors.CODES). Both are read here the way the pages get them:
from the config the shell pages embed."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from core.errors import CODES
from incentives.eligibility import REASONS

STRINGS_JS = Path(settings.BASE_DIR) / "incentives" / "static" / "web" / "strings.js"
CJK = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"\{\w+\}")
# codes the client makes up itself (no server answers them)
CLIENT_CODES = ["network_error", "unknown"]
# entries whose placeholders differ on purpose: 20 % off is "8 折" ({zhe} vs {value})
OWN_PLACEHOLDERS = {"benefit.percent_off"}

ENTRY = re.compile(
    r'^\s*"(?P<key>[\w.]+)":\s*(?P<kind>gettext_noop|pgettext|ngettext)\((?P<args>.*)\),\s*$'
)


def marked_strings() -> dict[str, dict[str, list[tuple[str, str]]]]:
    """strings.js as {table: {key: (kind, args)}}: what makemessages extracts."""
    tables: dict[str, dict] = {}
    table = None
    for line in STRINGS_JS.read_text(encoding="utf-8").splitlines():
        if m := re.match(r"export const (\w+) = \{", line):
            table = tables.setdefault(m[1], {})
        elif table is not None and (m := ENTRY.match(line)):
            table[m["key"]] = (m["kind"], json.loads(f"[{m['args']}]"))
    return tables


def translate(catalog: dict, kind: str, args: list[str]) -> list[str]:
    """What common.js t() shows for an entry (every plural form), as the browser would."""
    if kind == "gettext_noop":
        return [catalog.get(args[0], args[0])]
    if kind == "pgettext":
        return [catalog.get(f"{args[0]}\x04{args[1]}", args[1])]
    return list(catalog.get(args[0], args))


@pytest.fixture(scope="module")
def configs(django_db_blocker):
    with django_db_blocker.unblock():
        return {
            path: json.loads(
                re.search(
                    rb'<script id="web-config" type="application/json">(.*?)</script>',
                    Client().get(path).content,
                    re.S,
                )[1]
            )
            for path in ("/m/", "/scan/")
        }


def test_strings_js_is_read():
    tables = marked_strings()
    assert {"SHARED", "RESIDENT", "SCANNER"} <= tables.keys()
    assert len(tables["RESIDENT"]) > 100  # the parser sees the whole file
    kinds = {kind for table in tables.values() for kind, _args in table.values()}
    assert kinds == {"gettext_noop", "pgettext", "ngettext"}
    # every marked string is an entry the parser understood (none spread over lines)
    calls = re.findall(r'\b(?:gettext_noop|pgettext|ngettext)\("', STRINGS_JS.read_text("utf-8"))
    assert len(calls) == sum(len(table) for table in tables.values())


@pytest.mark.parametrize("path", ["/m/", "/scan/"])
@pytest.mark.parametrize("code", sorted(CODES))
def test_every_registered_error_code_has_a_message_in_both_languages(configs, path, code):
    errors = configs[path]["errors"]
    assert errors["zh-hans"][code].strip() and errors["en"][code].strip()
    assert CJK.search(errors["zh-hans"][code])
    assert not CJK.search(errors["en"][code]), errors["en"][code]


@pytest.mark.parametrize("code", CLIENT_CODES)
def test_client_made_codes_have_messages(code):
    assert f"err.{code}" in marked_strings()["SHARED"]


def test_screen_wordings_are_for_registered_codes():
    """`err.<code>` / `err.<screen>.<code>` only reword codes the registry knows."""
    for table in marked_strings().values():
        for key in table:
            if key.startswith("err.") and key.count(".") == 2:
                assert key.rsplit(".", 1)[1] in CODES, key


@pytest.mark.parametrize("reason", REASONS)
def test_every_eligibility_reason_has_a_message(reason):
    assert f"reason.{reason}" in marked_strings()["RESIDENT"]


@pytest.mark.parametrize(
    ("path", "tables"), [("/m/", ("SHARED", "RESIDENT")), ("/scan/", ("SHARED", "SCANNER"))]
)
def test_both_languages_complete_with_the_same_placeholders(configs, path, tables):
    catalogs = configs[path]["catalogs"]
    marked = marked_strings()
    for table in tables:
        for key, (kind, args) in marked[table].items():
            zh = translate(catalogs["zh-hans"]["catalog"], kind, args)
            en = translate(catalogs["en"]["catalog"], kind, args)
            source = args[1:] if kind == "pgettext" else args
            assert zh == source, key  # Chinese is the source language
            for text in en:
                assert text.strip(), key
                assert not CJK.search(text), (key, text)  # translated, not the source
                if key not in OWN_PLACEHOLDERS:
                    assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(zh[0])), key


def test_one_chinese_word_two_english_meanings(configs):
    """优惠 is the "Offers" tab and the scanner's "Offer" field (pgettext)."""
    en = configs["/m/"]["catalogs"]["en"]["catalog"]
    assert en["tab\x04优惠"] == "Offers"
    assert en["scanner field\x04优惠"] == "Offer"
    assert en["{n} 个城市"] == ["{n} city", "{n} cities"]  # ngettext: English plurals


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/m/", "/scan/"])
def test_shell_pages(path):
    response = Client().get(path)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert b'id="web-config"' in response.content
    assert b"cdn" not in response.content.lower()
