"""Load the reference data (the bootstrap command), then the demo data of every app, in
INSTALLED_APPS order, and print the demo logins. Refused under the production settings
(XINYOU_PROFILE "production"): the demo makes a superuser whose password is in the README.

Each app that has demo data has a `demo.py` with `seed() -> list[tuple[str, str]]`
returning the logins it created (phone, description). Every `seed` is idempotent.
"""

import importlib
import importlib.util

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.demo import DEMO_PASSWORD


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options) -> None:
        if getattr(settings, "XINYOU_PROFILE", "") == "production":
            raise CommandError(
                "seed_demo refuses to run under the production settings (XINYOU_PROFILE="
                "production): it creates demo logins with the README's password. Load the "
                "reference data with `python manage.py bootstrap` instead."
            )
        call_command("bootstrap", stdout=self.stdout, stderr=self.stderr)
        logins: list[tuple[str, str]] = []
        for config in apps.get_app_configs():
            if importlib.util.find_spec(f"{config.name}.demo") is None:
                continue
            module = importlib.import_module(f"{config.name}.demo")
            with transaction.atomic():
                logins += module.seed()
            self.stdout.write(f"demo data loaded: {config.label}")
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {DEMO_PASSWORD}):"))
        for phone, label in logins:
            self.stdout.write(f"  {phone}  {label}")
        self.stdout.write(
            "SMS codes (registration, login by code) go to the sandbox outbox, nothing is "
            "sent: read them with `python manage.py sms_outbox` or in admin › 演示短信发件箱."
        )
