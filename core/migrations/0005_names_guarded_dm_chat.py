from tortoise import migrations
from tortoise.migrations import operations as ops
from core._names import ShownNameField
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('core', '0004_flow_prompt')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Account',
            name='display_name',
            field=ShownNameField(default='', max_length=128),
        ),
        ops.AddField(
            model_name='Account',
            name='dm_chat_id',
            field=fields.CharField(null=True, description="The private chat with the bot, for /forgetme to find (on Discord not the user id).", max_length=128),
        ),
        ops.AlterField(
            model_name='Member',
            name='display_name',
            field=ShownNameField(default='', max_length=128),
        ),
    ]
