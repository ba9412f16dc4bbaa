"""A `baseline` row on the trail for every row that existed before it: the first change
after the trail was installed then shows its old values too (old → new is the
difference with the object's previous trail row). Residents' accounts are not copied,
as the trail never copies them."""

from django.db import migrations

BASELINE = {
    "OfferEvent": "",
    "MerchantEvent": "",
    "MerchantStaffEvent": "",
    "StationEvent": "",
    "SchemeEvent": "",
    "RuleVersionEvent": "",
    "HonourEvent": "",
    "IncidentChangeEvent": "",
    "UserEvent": "WHERE role <> 'resident' OR is_staff OR is_superuser",
    "GroupEvent": "",
}


def snapshot(apps, schema_editor):
    qn = schema_editor.connection.ops.quote_name
    for name, where in BASELINE.items():
        event = apps.get_model("audit", name)
        source = event._meta.get_field("pgh_obj").related_model._meta
        cols = [f.column for f in event._meta.concrete_fields if not f.name.startswith("pgh_")]
        copied = ", ".join(qn(c) for c in cols)
        schema_editor.execute(
            f"INSERT INTO {qn(event._meta.db_table)} "
            f"({copied}, pgh_created_at, pgh_label, pgh_obj_id, pgh_context) "
            f"SELECT {copied}, CLOCK_TIMESTAMP(), 'baseline', {qn(source.pk.column)}, "
            f"""'{{"baseline": true}}'::jsonb FROM {qn(source.db_table)} {where}"""
        )


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_audit_trail_and_access_log")]

    operations = [migrations.RunPython(snapshot, migrations.RunPython.noop)]
