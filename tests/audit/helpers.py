"""Reading the trail in tests: the rows of one object, with their context."""

from django.db.models import Model

from audit.trail import trail_for_object

ADDRESS = "203.0.113.7"  # the client address the tests' requests come from


def entries(obj: Model, label: str | None = None) -> list:
    rows = list(trail_for_object(obj).order_by("pgh_created_at", "pgh_id"))
    return [r for r in rows if label is None or r.pgh_label == label]


def last(obj: Model, label: str):
    found = entries(obj, label)
    assert found, f"no {label} row on the trail of {obj!r}"
    return found[-1]
