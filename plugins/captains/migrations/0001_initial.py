from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Broadcast',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('sender_id', fields.IntField(null=True, db_index=True)),
                ('regions', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('mode', fields.CharField(default='both', max_length=8)),
                ('text', fields.TextField(default='', unique=False)),
                ('status', fields.CharField(default='draft', db_index=True, max_length=16)),
                ('audience', fields.IntField(default=0)),
                ('approved_by_id', fields.IntField(null=True)),
                ('batch_id', fields.BigIntField(null=True)),
                ('progress', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('lang', fields.CharField(default='id', max_length=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'captains_broadcast', 'app': 'captains', 'pk_attr': 'id', 'table_description': 'A message a captain or admin sends to the members and groups of regions.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Warning',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member_id', fields.IntField(db_index=True)),
                ('chat_key', fields.CharField(max_length=160)),
                ('region_code', fields.CharField(null=True, max_length=16)),
                ('reason', fields.CharField(default='', max_length=300)),
                ('by_id', fields.IntField(null=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'captains_warning', 'app': 'captains', 'pk_attr': 'id', 'table_description': 'A warning a captain gave a member in a group.'},
            bases=['Model'],
        ),
    ]
