"""JobLease, PollState and SyncRun now belong to the sync app (sync 0001): the state
forgets them here; the tables stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("rakuten", "0005_plural_names"),
        ("sync", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="JobLease"),
                migrations.DeleteModel(name="PollState"),
                migrations.DeleteModel(name="SyncRun"),
            ],
            database_operations=[],
        )
    ]
