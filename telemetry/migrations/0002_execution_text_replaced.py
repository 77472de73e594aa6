from django.db import migrations, models

from catalog.definitions import safe_data

JSON_FIELDS = ("arguments", "context", "result")


def replace_unstorable_text(apps, schema_editor):
    """Runs stored on SQLite before lone surrogates were refused: their JSON holds
    characters no page can show. PostgreSQL never stored any."""
    if schema_editor.connection.vendor != "sqlite":
        return
    Execution = apps.get_model("telemetry", "Execution")
    rows = Execution.objects.only("pk", *JSON_FIELDS)
    for execution in rows.iterator(chunk_size=500):
        changes = {}
        for field in JSON_FIELDS:
            clean, changed = safe_data.storable(getattr(execution, field))
            if changed:
                changes[field] = clean
        if changes:
            Execution.objects.filter(pk=execution.pk).update(text_replaced=True, **changes)


class Migration(migrations.Migration):
    dependencies = [
        ("telemetry", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="execution",
            name="text_replaced",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(replace_unstorable_text, migrations.RunPython.noop),
    ]
