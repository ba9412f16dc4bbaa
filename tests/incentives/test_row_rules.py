"""The one-row decisions of incentives.eligibility (each rule's `row`, SQL over the facts
row) against the rules' other forms, over every combination of what they read: the
personal rules' Python (`applies`, which the lists and the pass's issue use) and the tier
ranks (TIER_RANK, which the lists' SQL uses). The grid (test_eligibility_grid.py) crosses
every reason with every path; this crosses every input with both forms."""

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.credit.models import TIER_RANK
from incentives.eligibility import (
    OFFER_RULES,
    PERSONAL_RULES,
    OfferRule,
    Person,
    PersonalRule,
    Reason,
    row_flags_sql,
)

pytestmark = pytest.mark.django_db

# The columns of the facts row that these rules read.
_READ = {
    "standing_id": "int",
    "consented": "boolean",
    "seriously_dishonest": "boolean",
    "standing_valid_until": "timestamptz",
    "min_tier": "text",
    "tier": "text",
}
_RULES: tuple[PersonalRule | OfferRule, ...] = (
    *PERSONAL_RULES,
    *(rule for rule in OFFER_RULES if rule.reason == Reason.TIER_TOO_LOW),
)


def _flags(rows: list[tuple], now) -> list[dict[Reason, bool | None]]:
    """The flags of _RULES over each of `rows` (values of _READ's columns), as the one-row
    read computes them."""
    values = ", ".join(
        "(" + ", ".join(f"%(r{i}_{c})s::{kind}" for c, kind in enumerate(_READ.values())) + ")"
        for i in range(len(rows))
    )
    params = {f"r{i}_{c}": v for i, row in enumerate(rows) for c, v in enumerate(row)}
    sql = f"SELECT {row_flags_sql(_RULES)} FROM (VALUES {values}) AS f({', '.join(_READ)})"
    with connection.cursor() as cur:
        cur.execute(sql, {**params, "now": now})
        return [dict(zip((r.reason for r in _RULES), got, strict=True)) for got in cur]


def test_the_personal_rules_decide_the_same_in_python_and_over_the_row():
    now = timezone.now()
    rows, people = [], []
    for has, consented, flagged, until in itertools.product(
        (True, False),
        (True, False),
        (None, False, True),
        (None, now - timedelta(hours=1), now, now + timedelta(days=1)),
    ):
        rows.append((1 if has else None, consented, flagged, until, "", None))
        people.append(Person(has, consented, bool(flagged), until))
    for flags, person in zip(_flags(rows, now), people, strict=True):
        for rule in PERSONAL_RULES:
            assert flags[rule.reason] is (not rule.applies(person, now)), (rule, person)


def test_the_tier_rule_over_the_row_follows_the_tier_ranks():
    """Every minimum against every tier (and none: no standing)."""
    cases = [(minimum, tier) for minimum in ["", *TIER_RANK] for tier in [*TIER_RANK, None]]
    rows = [
        (None if tier is None else 1, True, False, None, minimum, tier) for minimum, tier in cases
    ]
    for flags, (minimum, tier) in zip(_flags(rows, timezone.now()), cases, strict=True):
        rank = -1 if tier is None else TIER_RANK[tier]
        assert flags[Reason.TIER_TOO_LOW] is (not minimum or TIER_RANK[minimum] <= rank)
