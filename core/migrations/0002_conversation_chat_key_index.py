from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('core', '0001_initial')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Conversation',
            name='chat_key',
            field=fields.CharField(db_index=True, max_length=160),
        ),
    ]
