"""Existing rows: the stored birth date goes (with the mask it narrowed an ID number to
about ten candidates). Dropping the column erases it from every existing row; nothing
else is derived from it. Irreversible on purpose: the data cannot come back."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_identity_security")]

    operations = [migrations.RemoveField(model_name="user", name="birth_date")]
