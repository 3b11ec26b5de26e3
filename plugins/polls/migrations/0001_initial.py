from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Poll',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('template', fields.CharField(null=True, db_index=True, max_length=32)),
                ('wave', fields.IntField(default=1)),
                ('label', fields.CharField(default='', max_length=64)),
                ('question', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('options', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('multiple', fields.BooleanField(default=False)),
                ('anonymous', fields.BooleanField(default=True)),
                ('results_live', fields.BooleanField(default=True)),
                ('region_code', fields.CharField(null=True, db_index=True, max_length=16)),
                ('language', fields.CharField(default='id', max_length=8)),
                ('created_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('closes_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'polls_poll', 'app': 'polls', 'pk_attr': 'id', 'table_description': 'A poll, from a template or written by a captain, open until it closes.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Ballot',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('poll', fields.ForeignKeyField('polls.Poll', source_field='poll_id', db_constraint=True, to_field='id', related_name='ballots', on_delete=OnDelete.CASCADE)),
                ('member_id', fields.IntField(null=True)),
                ('choices', fields.IntField()),
                ('weight', fields.IntField(default=1)),
                ('region_code', fields.CharField(null=True, max_length=16)),
                ('province_code', fields.CharField(null=True, max_length=8)),
                ('platform', fields.CharField(null=True, max_length=16)),
                ('voted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'polls_ballot', 'app': 'polls', 'unique_together': (('poll', 'member_id'),), 'indexes': [Index(fields=['poll_id', 'region_code', 'choices', 'weight']), Index(fields=['poll_id', 'province_code', 'choices', 'weight']), Index(fields=['member_id'])], 'pk_attr': 'id', 'table_description': 'The answer of one member to one poll. The choices are a bit set of option indexes.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Post',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('poll', fields.ForeignKeyField('polls.Poll', source_field='poll_id', db_constraint=True, to_field='id', related_name='posts', on_delete=OnDelete.CASCADE)),
                ('platform', fields.CharField(max_length=16)),
                ('chat_id', fields.CharField(max_length=64)),
                ('chat_kind', fields.CharField(default='group', max_length=8)),
                ('chat_title', fields.CharField(null=True, max_length=128)),
                ('thread', fields.CharField(null=True, max_length=64)),
                ('message_id', fields.CharField(max_length=64)),
                ('native_poll_id', fields.CharField(null=True, max_length=128)),
                ('language', fields.CharField(default='id', max_length=8)),
                ('posted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('extra', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'polls_post', 'app': 'polls', 'indexes': [Index(fields=['platform', 'native_poll_id'])], 'pk_attr': 'id', 'table_description': 'A message showing a poll in one chat, with its native poll id where there is one.'},
            bases=['Model'],
        ),
    ]
