from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('core', '0002_conversation_chat_key_index')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Job',
            index=Index(fields=['status', 'due_at']),
        ),
    ]
