from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('polls', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='TallyCell',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('poll', fields.ForeignKeyField('polls.Poll', source_field='poll_id', db_constraint=True, to_field='id', related_name='tally', on_delete=OnDelete.CASCADE)),
                ('region_code', fields.CharField(null=True, max_length=16)),
                ('province_code', fields.CharField(null=True, max_length=8)),
                ('choices', fields.IntField()),
                ('weight', fields.IntField(default=0)),
            ],
            options={'table': 'polls_tally', 'app': 'polls', 'indexes': [Index(fields=['poll_id', 'region_code', 'choices'])], 'pk_attr': 'id', 'table_description': 'Ballots of a poll (by weight) with one answer set in one region, kept with them.'},
            bases=['Model'],
        ),
        # The cells of the ballots already cast.
        ops.RunSQL(
            'INSERT INTO polls_tally (poll_id, region_code, province_code, choices, weight) '
            'SELECT poll_id, region_code, province_code, choices, SUM(weight) FROM polls_ballot '
            'GROUP BY poll_id, region_code, province_code, choices',
            reverse_sql='DELETE FROM polls_tally',
        ),
    ]
