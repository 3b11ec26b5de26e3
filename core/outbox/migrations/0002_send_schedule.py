from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('outbox', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SendSchedule',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=128)),
                ('next_free', fields.FloatField(default=0.0)),
            ],
            options={'table': 'core_outbox_rate', 'app': 'outbox', 'pk_attr': 'key', 'table_description': 'A rate shared by every worker of a deployment: the next free send time, in the'},
            bases=['Model'],
        ),
    ]
