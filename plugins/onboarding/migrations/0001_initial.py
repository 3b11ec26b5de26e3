from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Consent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member_id', fields.IntField(unique=True)),
                ('version', fields.CharField(max_length=32)),
                ('accepted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'onboarding_consent', 'app': 'onboarding', 'pk_attr': 'id', 'table_description': 'A member agreed to the data use text of one version.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PendingNotice',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('region_code', fields.CharField(db_index=True, max_length=16)),
                ('member_id', fields.IntField(db_index=True)),
                ('kind', fields.CharField(max_length=16)),
                ('other_region', fields.CharField(null=True, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'onboarding_notice', 'app': 'onboarding', 'pk_attr': 'id', 'table_description': 'News for the captains of a region, waiting for the next digest.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Profile',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member_id', fields.IntField(unique=True)),
                ('batch', fields.IntField(null=True)),
                ('training', fields.CharField(null=True, max_length=100)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'onboarding_profile', 'app': 'onboarding', 'pk_attr': 'id', 'table_description': 'Alumni details a member gave at registration: training batch and training taken.'},
            bases=['Model'],
        ),
    ]
