from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Delivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('batch_id', fields.BigIntField()),
                ('platform', fields.CharField(max_length=16)),
                ('chat_kind', fields.CharField(max_length=8)),
                ('target', fields.CharField(max_length=64)),
                ('account_id', fields.IntField(null=True)),
                ('region_code', fields.CharField(null=True, max_length=16)),
                ('status', fields.CharField(default='pending', max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('locked_by', fields.CharField(null=True, max_length=64)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'core_outbox_delivery', 'app': 'outbox', 'unique_together': (('batch_id', 'platform', 'chat_kind', 'target'),), 'indexes': [Index(fields=['batch_id', 'status', 'id']), Index(fields=['status', 'id'])], 'pk_attr': 'id', 'table_description': 'One recipient of a batch, a private chat or a group, sent at most once.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxBatch',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(db_index=True, max_length=64)),
                ('key', fields.CharField(null=True, unique=True, max_length=128)),
                ('message', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('meta', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(default='active', db_index=True, max_length=16)),
                ('total', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'core_outbox_batch', 'app': 'outbox', 'pk_attr': 'id', 'table_description': 'One message fanned out to many recipients, stored once.'},
            bases=['Model'],
        ),
    ]
