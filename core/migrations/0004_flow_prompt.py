from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('core', '0003_job_status_due_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FlowPrompt',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member_id', fields.IntField(db_index=True)),
                ('chat_key', fields.CharField(max_length=160)),
                ('message_id', fields.CharField(max_length=64)),
                ('spent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'core_flow_prompt', 'app': 'core', 'unique_together': (('chat_key', 'message_id'),), 'pk_attr': 'id', 'table_description': 'A message with buttons that belongs to a flow of one member in one chat.'},
            bases=['Model'],
        ),
    ]
