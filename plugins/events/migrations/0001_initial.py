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
            name='ReminderSent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('event_id', fields.IntField(db_index=True)),
                ('minutes', fields.IntField()),
                ('target', fields.CharField(max_length=200)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'events_reminder_sent', 'app': 'events', 'unique_together': (('event_id', 'minutes', 'target'),), 'pk_attr': 'id', 'table_description': 'One reminder delivered to one target, so a retried job never sends it twice.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Series',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('frequency', fields.CharField(max_length=16)),
                ('until', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'events_series', 'app': 'events', 'pk_attr': 'id', 'table_description': 'A recurring event, weekly or monthly, until an end date.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Event',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('place', fields.CharField(default='', max_length=300)),
                ('region_code', fields.CharField(default='', db_index=True, max_length=16)),
                ('starts_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('tz', fields.CharField(default='Asia/Jakarta', max_length=48)),
                ('capacity', fields.IntField(null=True)),
                ('reminder_minutes', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(default='scheduled', db_index=True, max_length=16)),
                ('series', fields.ForeignKeyField('events.Series', source_field='series_id', null=True, db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('checkin_code', fields.CharField(null=True, db_index=True, max_length=16)),
                ('checkin_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'events_event', 'app': 'events', 'pk_attr': 'id', 'table_description': 'One event or one occurrence of a series, with its time in UTC and its zone.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Card',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('event', fields.ForeignKeyField('events.Event', source_field='event_id', db_constraint=True, to_field='id', related_name='cards', on_delete=OnDelete.CASCADE)),
                ('platform', fields.CharField(max_length=16)),
                ('chat_id', fields.CharField(max_length=64)),
                ('chat_kind', fields.CharField(default='group', max_length=8)),
                ('thread', fields.CharField(null=True, max_length=64)),
                ('message_id', fields.CharField(max_length=64)),
            ],
            options={'table': 'events_card', 'app': 'events', 'pk_attr': 'id', 'table_description': 'Where an event card was posted, so it can be edited in place.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Checkin',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('event', fields.ForeignKeyField('events.Event', source_field='event_id', db_constraint=True, to_field='id', related_name='checkins', on_delete=OnDelete.CASCADE)),
                ('member_id', fields.IntField(db_index=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'events_checkin', 'app': 'events', 'unique_together': (('event', 'member_id'),), 'pk_attr': 'id', 'table_description': 'A member who checked in at an event.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Rsvp',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('event', fields.ForeignKeyField('events.Event', source_field='event_id', db_constraint=True, to_field='id', related_name='rsvps', on_delete=OnDelete.CASCADE)),
                ('member_id', fields.IntField(db_index=True)),
                ('status', fields.CharField(max_length=16)),
                ('waitlisted', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'events_rsvp', 'app': 'events', 'unique_together': (('event', 'member_id'),), 'pk_attr': 'id', 'table_description': 'A member answer to one event, going or maybe or no, maybe on the waitlist.'},
            bases=['Model'],
        ),
    ]
