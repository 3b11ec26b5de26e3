from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('state', '0002_cache_changes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WorkerBeat',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=96)),
                ('host', fields.CharField(max_length=128)),
                ('pid', fields.IntField()),
                ('adapters', fields.CharField(default='', max_length=128)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('seen_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('stopped_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('handled', fields.BigIntField(default=0)),
                ('in_flight', fields.IntField(default=0)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('last_error_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'core_worker', 'app': 'state', 'pk_attr': 'name', 'table_description': "A worker process's heartbeat, written every few seconds, for guyub status."},
            bases=['Model'],
        ),
    ]
