from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='ConsentRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member_id', fields.IntField(db_index=True)),
                ('version', fields.IntField()),
                ('status', fields.CharField(max_length=16)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('channel', fields.CharField(max_length=16)),
            ],
            options={'table': 'core_consent', 'app': 'privacy', 'pk_attr': 'id', 'table_description': 'One consent decision of a member, with the text version, time and channel.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LinkCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code_hash', fields.CharField(unique=True, max_length=64)),
                ('member_id', fields.IntField(db_index=True)),
                ('platform', fields.CharField(max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('claimed_by_id', fields.IntField(null=True, db_index=True)),
                ('claimed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('status', fields.CharField(default='open', max_length=16)),
            ],
            options={'table': 'core_link_code', 'app': 'privacy', 'pk_attr': 'id', 'table_description': 'A one time code that joins two accounts into one member, stored as a hash.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RateCounter',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('bucket', fields.CharField(max_length=64)),
                ('window_start', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('count', fields.IntField(default=0)),
            ],
            options={'table': 'core_rate_counter', 'app': 'privacy', 'unique_together': (('bucket', 'window_start'),), 'pk_attr': 'id', 'table_description': 'How many times something happened in one time window, shared by every worker.'},
            bases=['Model'],
        ),
    ]
