"""Texts that exist in Chinese and, optionally, in English (offer titles, city names,
consent texts): one rule for which one a request gets."""

from django.utils.translation import get_language


def english() -> bool:
    """Whether the active language (the request's `Accept-Language`) is English."""
    return (get_language() or "").lower().startswith("en")


def localized(chinese: str, english_text: str | None, *, in_english: bool | None = None) -> str:
    """The English text where there is one and the request is in English, else the
    Chinese (the source language). `in_english` saves asking again in a loop."""
    if in_english is None:
        in_english = english()
    return english_text if in_english and english_text else chinese
