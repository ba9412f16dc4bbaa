"""A SQL function that aborts the statement that calls it (PostgreSQL only): lets the pass
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


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("incentives", "0007_passes_and_incidents")]

    operations = [migrations.RunPython(create, drop)]
