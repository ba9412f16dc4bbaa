"""The offer review workflow, in one place: which action leads from which statuses to
which, who may take it, and in which statuses the merchant may edit or delete an offer.

The services (merchants.services) enforce it for every caller — admin, API and shell;
merchants.scopes decides which of the actors below a user is towards one offer.
"""

from .models import Offer

S = Offer.Status

# The actors of the workflow: a user is one or more of these towards one offer.
MERCHANT = "merchant"  # staff of the offer's merchant
CITY = "city"  # city staff of the merchant's city
SUPERUSER = "superuser"  # may take every action

# action -> (statuses it starts from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({S.DRAFT, S.REJECTED}), S.SUBMITTED),
    "withdraw": (frozenset({S.SUBMITTED}), S.DRAFT),
    "publish": (frozenset({S.SUBMITTED}), S.PUBLISHED),
    "reject": (frozenset({S.SUBMITTED}), S.REJECTED),
    "pause": (frozenset({S.PUBLISHED}), S.PAUSED),
    "resume": (frozenset({S.PAUSED}), S.PUBLISHED),
    "end": (frozenset({S.DRAFT, S.SUBMITTED, S.PUBLISHED, S.PAUSED, S.REJECTED}), S.ENDED),
    # (a change of terms of a published or paused offer does not move it: it waits in
    # Offer.pending_terms until the city approves or rejects it; services.revise_offer)
}

# Statuses whose terms the city has approved: a change of their terms waits for review
# (approved with "publish", refused with "reject") while residents keep the approved ones.
REVIEWED_STATUSES: frozenset[str] = frozenset({S.PUBLISHED, S.PAUSED})

# Who may take each action (superusers may take all). "revise" also governs editing and
# deleting: the merchant's side changes its offers, the city reviews them.
ALLOWED_ACTORS: dict[str, frozenset[str]] = {
    "submit": frozenset({MERCHANT}),
    "withdraw": frozenset({MERCHANT}),
    "revise": frozenset({MERCHANT}),
    "publish": frozenset({CITY}),
    "reject": frozenset({CITY}),
    "pause": frozenset({MERCHANT, CITY}),
    "resume": frozenset({MERCHANT, CITY}),
    "end": frozenset({CITY}),
}

# Statuses in which the merchant may change the offer (submitted: under review; ended:
# for good). A change of a term of a published or paused offer waits for review.
EDITABLE_STATUSES: frozenset[str] = frozenset({S.DRAFT, S.REJECTED, S.PUBLISHED, S.PAUSED})

# Only an offer that never went out may be deleted; anything else is ended instead.
DELETABLE_STATUSES: frozenset[str] = frozenset({S.DRAFT})

# Actions after which the merchant must be active and the offer's window still open.
NEEDS_LIVE_WINDOW: frozenset[str] = frozenset({"submit", "publish", "resume"})


def leads_to(action: str, status: str) -> str | None:
    """The status `action` leads to from `status`, or None if it cannot be taken there."""
    sources, target = TRANSITIONS[action]
    return target if status in sources else None
