from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


async def install(apps, schema_editor):
    # Triggers on core_member keep the tallies; they are counted once from the members.
    from core._tallies import install_tallies

    await install_tallies(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [('core', '0006_member_figure_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MemberTally',
            fields=[
                ('region_code', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=16)),
                ('members', fields.IntField(default=0)),
                ('registered', fields.IntField(default=0)),
            ],
            options={'table': 'core_member_tally', 'app': 'core', 'pk_attr': 'region_code', 'table_description': 'Members and registered members per region, kept by triggers on core_member.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RegistrationDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('region_code', fields.CharField(max_length=16)),
                ('day', fields.DateField()),
                ('registered', fields.IntField(default=0)),
            ],
            options={'table': 'core_registration_day', 'app': 'core', 'unique_together': (('region_code', 'day'),), 'pk_attr': 'id', 'table_description': 'Members who finished registration per region and UTC day, kept by the same triggers.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PlatformTally',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('platform', fields.CharField(max_length=16)),
                ('region_code', fields.CharField(max_length=16)),
                ('accounts', fields.IntField(default=0)),
                ('registered', fields.IntField(default=0)),
            ],
            options={'table': 'core_platform_tally', 'app': 'core', 'unique_together': (('platform', 'region_code'),), 'pk_attr': 'id', 'table_description': 'Accounts per platform and region of their member, and how many of those members are'},
            bases=['Model'],
        ),
        ops.RunPython(install, reverse_code=ops.RunPython.noop),
    ]
