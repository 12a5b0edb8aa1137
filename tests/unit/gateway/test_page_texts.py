"""Every text a page asks for exists in Japanese and in English (a missing key shows as its raw name)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[3] / "services" / "gateway" / "web"


def _languages() -> dict[str, set[str]]:
    source = (WEB / "i18n.js").read_text()
    blocks = dict(re.findall(r"\n  (ja|en): \{(.*?)\n  \},", source, flags=re.S))
    return {lang: set(re.findall(r"\b([a-z][a-z0-9_]*):\s*\"", body)) for lang, body in blocks.items()}


def _wanted() -> set[str]:
    keys: set[str] = set()
    for page in WEB.glob("*.html"):
        keys |= set(re.findall(r'data-i18n="([a-z0-9_]+)"', page.read_text()))
    for script in WEB.glob("*.js"):
        keys |= set(re.findall(r'\bt\("([a-z0-9_]+)"\)', script.read_text()))
    return keys


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_key_the_pages_use_has_a_text(lang):
    texts = _languages()
    assert set(texts) == {"ja", "en"}
    missing = sorted(_wanted() - texts[lang])
    assert missing == [], f"{lang} lacks {missing}"
