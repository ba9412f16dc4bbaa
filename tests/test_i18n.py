"""One rule for texts kept in Chinese and optionally in English (core.i18n)."""

from django.utils import translation

from core.i18n import english, localized


def test_english_text_only_where_there_is_one_and_the_request_is_english():
    with translation.override("en"):
        assert english()
        assert localized("西湖游船", "West Lake boats") == "West Lake boats"
        assert localized("西湖游船", "") == "西湖游船"
        assert localized("西湖游船", None) == "西湖游船"
    with translation.override("zh-hans"):
        assert not english()
        assert localized("西湖游船", "West Lake boats") == "西湖游船"
    assert localized("西湖游船", "West Lake boats", in_english=True) == "West Lake boats"
