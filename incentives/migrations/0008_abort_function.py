"""A SQL function that aborts the statement that calls it: lets the pass
check's single statement undo itself when its two conditions disagree (see
incentives.passes.services), without a transaction's extra round trips."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION xinyou_abort(reason text) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'XY001', MESSAGE = reason;
END
$$;
"""
DROP = "DROP FUNCTION IF EXISTS xinyou_abort(text);"


class Migration(migrations.Migration):
    dependencies = [("incentives", "0007_passes_and_incidents")]

    operations = [migrations.RunSQL(CREATE, DROP)]
