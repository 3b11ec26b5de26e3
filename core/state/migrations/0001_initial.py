from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='KeyValue',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=128)),
                ('value', fields.TextField(unique=False)),
            ],
            options={'table': 'core_kv', 'app': 'state', 'pk_attr': 'key', 'table_description': 'A small named value kept by the core or an adapter.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SeenUpdate',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('source', fields.CharField(max_length=32)),
                ('key', fields.CharField(max_length=128)),
                ('seen_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'core_seen_update', 'app': 'state', 'unique_together': (('source', 'key'),), 'pk_attr': 'id', 'table_description': 'A platform update already processed, to process each once.'},
            bases=['Model'],
        ),
    ]
