"""English names of places that exist only in Chinese (a merchant's district, a station):
Hanyu Pinyin of the proper name plus the English of its generic part, as Chinese place
names are written in English ("西湖区" → "Xihu District", "西湖站" → "Xihu Station"). Only
the English mode shows them; the Chinese stays the name of record."""

from functools import lru_cache

from pypinyin import Style, lazy_pinyin

# the generic last character of a place name and its English word
_GENERIC = {
    "区": "District",
    "县": "County",
    "市": "City",
    "镇": "Town",
    "乡": "Township",
    "街道": "Subdistrict",
    "站": "Station",
    "新区": "New Area",
}


@lru_cache(maxsize=4096)
def english_place(name: str) -> str:
    """`name` in English: "西湖区" → "Xihu District"; "" stays ""; text without Chinese
    characters is kept as it is."""
    name = (name or "").strip()
    if not name or not any("\u4e00" <= ch <= "\u9fff" for ch in name):
        return name
    proper, generic = name, ""
    for suffix in sorted(_GENERIC, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            proper, generic = name[: -len(suffix)], _GENERIC[suffix]
            break
    # characters that are not Chinese (digits, brackets, Latin) come through as they are
    syllables = "".join(lazy_pinyin(proper, style=Style.NORMAL, errors=lambda s: s))
    words = syllables.replace("（", " (").replace("）", ")").strip()
    words = words[:1].upper() + words[1:]
    return f"{words} {generic}".strip()
