"""Publish the first user agreement and privacy notice. Existing accounts have accepted
no version: the app asks them at their next login (GET /me: agreement_outdated)."""

from django.db import migrations


def publish(apps, schema_editor):
    from accounts.legal.texts import AGREEMENT_V1

    Agreement = apps.get_model("accounts", "Agreement")
    if not Agreement.objects.filter(is_current=True).exists():
        Agreement.objects.update_or_create(
            version=AGREEMENT_V1["version"], defaults={**AGREEMENT_V1, "is_current": True}
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0007_drop_birth_date")]

    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
