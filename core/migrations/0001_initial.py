from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('actor_id', fields.IntField(null=True, db_index=True)),
                ('action', fields.CharField(db_index=True, max_length=64)),
                ('target', fields.CharField(default='', max_length=128)),
                ('region_code', fields.CharField(null=True, db_index=True, max_length=16)),
                ('details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'core_audit', 'app': 'core', 'pk_attr': 'id', 'table_description': 'One captain or admin action, or a privacy-relevant event.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ButtonKey',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=16)),
                ('action', fields.CharField(max_length=64)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('only_for', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'core_button', 'app': 'core', 'pk_attr': 'key', 'table_description': 'A button payload kept server side, the platform only sees the key.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Job',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(db_index=True, max_length=64)),
                ('payload', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('due_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('tz', fields.CharField(default='UTC', max_length=48)),
                ('status', fields.CharField(default='pending', db_index=True, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('max_attempts', fields.IntField(default=5)),
                ('late_after_seconds', fields.IntField(null=True)),
                ('idempotency_key', fields.CharField(null=True, unique=True, max_length=191)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('locked_by', fields.CharField(null=True, max_length=64)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'core_job', 'app': 'core', 'pk_attr': 'id', 'table_description': 'Timed work, a row per job, claimed by one worker at a time.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Member',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('display_name', fields.CharField(default='', max_length=128)),
                ('language', fields.CharField(default='id', max_length=8)),
                ('region_code', fields.CharField(null=True, db_index=True, max_length=16)),
                ('registered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_active_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'core_member', 'app': 'core', 'pk_attr': 'id', 'table_description': 'A person in the community, whatever platforms they use.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Account',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('platform', fields.CharField(max_length=16)),
                ('platform_user_id', fields.CharField(max_length=64)),
                ('member', fields.ForeignKeyField('core.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='accounts', on_delete=OnDelete.CASCADE)),
                ('username', fields.CharField(null=True, max_length=128)),
                ('display_name', fields.CharField(default='', max_length=128)),
                ('language', fields.CharField(null=True, max_length=16)),
                ('dm_open', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_seen_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'core_account', 'app': 'core', 'unique_together': (('platform', 'platform_user_id'),), 'pk_attr': 'id', 'table_description': 'A member on one platform, unique per platform and platform user id.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Conversation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('core.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='conversations', on_delete=OnDelete.CASCADE)),
                ('chat_key', fields.CharField(max_length=160)),
                ('flow', fields.CharField(max_length=64)),
                ('step', fields.CharField(max_length=64)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'core_conversation', 'app': 'core', 'unique_together': (('member', 'chat_key'),), 'pk_attr': 'id', 'table_description': 'The step a member has reached in a multi-step flow, in one chat.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RoleGrant',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('core.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='roles', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharField(max_length=16)),
                ('scope', fields.CharField(default='', max_length=16)),
                ('granted_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'core_role_grant', 'app': 'core', 'unique_together': (('member', 'role', 'scope'),), 'pk_attr': 'id', 'table_description': 'A captain or admin role. The scope is a region code for captains, empty for national.'},
            bases=['Model'],
        ),
    ]
