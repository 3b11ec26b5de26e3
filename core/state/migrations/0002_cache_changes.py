from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('state', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CacheChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(max_length=200)),
            ],
            options={'table': 'core_cache_change', 'app': 'state', 'pk_attr': 'id', 'table_description': 'A member id or chat key a write touched, for the caches of every worker.'},
            bases=['Model'],
        ),
    ]
