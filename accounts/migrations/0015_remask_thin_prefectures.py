"""Re-mask stored ID masks of thin prefectures (issue 24, point 10): `4601**********1234`
becomes `46************1234` (accounts.identity.THIN_PREFECTURES), on residents and on
the credit-query audit rows. Only the mask's own characters are used: nothing else is
known about the number."""

from django.db import migrations

# frozen copy of accounts.identity.THIN_PREFECTURES at the time of this migration
THIN = {
    *("4601", "4602", "4603", "4604", "4419", "4420", "6202", "6203", "6402", "6502"),
    *("6504", "6505", "4207", "1503", "3605", "3606", "2309", "3407", "4190", "4290"),
}


def remask(apps, schema_editor):
    for model in (apps.get_model("accounts", "User"), apps.get_model("accounts", "CreditQuery")):
        for prefix in THIN:
            rows = model.objects.filter(id_masked__startswith=prefix)
            for pk, masked in rows.values_list("pk", "id_masked"):
                if len(masked) == 18:
                    model.objects.filter(pk=pk).update(id_masked=masked[:2] + "**" + masked[4:])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0014_notices")]

    operations = [migrations.RunPython(remask, migrations.RunPython.noop, elidable=True)]
