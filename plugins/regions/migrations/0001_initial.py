from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='RecipientCount',
            fields=[
                ('region_code', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=16)),
                ('recipients', fields.IntField()),
                ('imported_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'regions_recipients', 'app': 'regions', 'pk_attr': 'region_code', 'table_description': 'The official number of programme recipients in a region, imported from a file.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Region',
            fields=[
                ('code', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=16)),
                ('name', fields.CharField(max_length=128)),
                ('kind', fields.CharField(max_length=16)),
                ('parent_code', fields.CharField(null=True, db_index=True, max_length=16)),
                ('timezone', fields.CharField(max_length=48)),
            ],
            options={'table': 'regions_region', 'app': 'regions', 'pk_attr': 'code', 'table_description': 'A province or kabupaten or kota, keyed by its Kemendagri code.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RegionChat',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('region_code', fields.CharField(db_index=True, max_length=16)),
                ('platform', fields.CharField(max_length=16)),
                ('chat_id', fields.CharField(max_length=64)),
                ('thread_id', fields.CharField(default='', max_length=64)),
                ('title', fields.CharField(default='', max_length=128)),
                ('invite_link', fields.CharField(null=True, max_length=255)),
                ('discord_role_id', fields.CharField(null=True, max_length=32)),
                ('linked_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'regions_chat', 'app': 'regions', 'unique_together': (('platform', 'chat_id', 'thread_id'),), 'pk_attr': 'id', 'table_description': 'A group or channel bound to a region on one platform.'},
            bases=['Model'],
        ),
    ]
