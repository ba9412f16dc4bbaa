"""The new roll-ups (CityTotalDay, ClaimantSet) start empty: mark every day that has
roll-up rows dirty, so that the next refresh (the beat task) recomputes them all. Until
it has run, the figures of those days lack totals and distinct residents."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("incentives", "0012_dashboard_resident_bitmaps_and_city_totals")]

    operations = [
        migrations.RunSQL(
            "INSERT INTO incentives_dirtyday (day, marked_at) "
            "SELECT DISTINCT day, now() FROM incentives_cityday ON CONFLICT (day) DO NOTHING",
            reverse_sql=migrations.RunSQL.noop,
        )
    ]
