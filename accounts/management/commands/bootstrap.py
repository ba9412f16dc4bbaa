"""Load the programme's reference data (accounts.reference): partner cities, alliances,
credit schemes and their first rule versions, the credit consent text and the user
agreement. No demo person, login or merchant. Idempotent: a second run changes nothing.
Safe in production."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.credit.models import ConsentText, RuleVersion, Scheme
from accounts.legal.models import Agreement
from accounts.models import Alliance, City
from accounts.reference import load_agreement, load_reference_data


class Command(BaseCommand):
    help = (
        "Load the reference data (partner cities, alliances, credit schemes, rule versions, "
        "consent and "
        "agreement texts); idempotent, no demo persons."
    )

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            load_reference_data()
            load_agreement()
        self.stdout.write(
            "reference data loaded: "
            f"{City.objects.count()} cities, {Scheme.objects.count()} schemes, "
            f"{RuleVersion.objects.count()} rule versions, "
            f"{Alliance.objects.count()} alliances, "
            f"consent text {_current(ConsentText)}, agreement {_current(Agreement)}"
        )


def _current(model) -> str:
    row = model.objects.filter(is_current=True).only("version").first()
    return row.version if row is not None else "-"
