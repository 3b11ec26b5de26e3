from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('core', '0005_names_guarded_dm_chat')]

    initial = False

    operations = [
        ops.AddIndex(model_name='Member', index=Index(fields=['region_code', 'registered_at'])),
        ops.AddIndex(model_name='Member', index=Index(fields=['region_code', 'last_active_at'])),
        ops.AddIndex(model_name='Member', index=Index(fields=['registered_at', 'region_code'])),
        ops.AddIndex(model_name='Member', index=Index(fields=['last_active_at', 'region_code'])),
        ops.AddIndex(model_name='Member', index=Index(fields=['created_at', 'region_code'])),
        ops.AddIndex(model_name='Account', index=Index(fields=['last_seen_at', 'platform'])),
    ]
