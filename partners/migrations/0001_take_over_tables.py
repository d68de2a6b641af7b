"""Partners, projects, feed tokens and preferences move here from the reservations app.

State only: the tables keep their names (`db_table`) and rows. The content types follow
in reservations/0005.
"""

import django.db.models.deletion
import partners.models
from django.conf import settings
from django.db import migrations, models


STATE = [
        migrations.CreateModel(
            name='FeedToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(default=partners.models._new_feed_token, max_length=64, unique=True, verbose_name='key')),
                ('created_at', models.DateTimeField(auto_now=True, verbose_name='created at')),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='feed_token', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'feed token',
                'verbose_name_plural': 'feed tokens',
                'db_table': 'reservations_feedtoken',
            },
        ),
        migrations.CreateModel(
            name='Partner',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=200, unique=True, verbose_name='name')),
                ('kind', models.CharField(choices=[('university', 'university'), ('school', 'school'), ('research_lab', 'research lab'), ('company', 'company'), ('cluster', 'cluster'), ('training_body', 'training body'), ('other', 'other')], max_length=16, verbose_name='kind')),
                ('rate_category', models.CharField(choices=[('academic', 'academic'), ('industrial', 'industrial')], max_length=12, verbose_name='rate category')),
                ('referents', models.ManyToManyField(blank=True, related_name='referent_of', to=settings.AUTH_USER_MODEL, verbose_name='referents')),
            ],
            options={
                'verbose_name': 'partner',
                'verbose_name_plural': 'partners',
                'db_table': 'reservations_partner',
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='UserPreference',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('language', models.CharField(blank=True, choices=[('fr', 'French'), ('en', 'English')], max_length=8, verbose_name='language')),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='preference', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'user preference',
                'verbose_name_plural': 'user preferences',
                'db_table': 'reservations_userpreference',
            },
        ),
        migrations.CreateModel(
            name='Project',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('kind', models.CharField(choices=[('pedagogical', 'pedagogical'), ('research', 'research'), ('industrial', 'industrial')], max_length=12, verbose_name='kind')),
                ('description', models.TextField(blank=True, verbose_name='description')),
                ('active_from', models.DateField(verbose_name='active from')),
                ('active_until', models.DateField(blank=True, null=True, verbose_name='active until')),
                ('confidential', models.BooleanField(default=False, verbose_name='confidential')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('leader', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='led_projects', to=settings.AUTH_USER_MODEL, verbose_name='leader')),
                ('members', models.ManyToManyField(blank=True, related_name='projects', to=settings.AUTH_USER_MODEL, verbose_name='members')),
                ('partner', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='projects', to='partners.partner', verbose_name='partner')),
            ],
            options={
                'verbose_name': 'project',
                'verbose_name_plural': 'projects',
                'db_table': 'reservations_project',
                'ordering': ['name'],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('kind', 'industrial'), _negated=True), ('confidential', True), _connector='OR'), name='project_industrial_is_confidential'), models.CheckConstraint(condition=models.Q(('active_until__isnull', True), ('active_until__gte', models.F('active_from')), _connector='OR'), name='project_active_period_in_order')],
            },
        ),
    ]


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        # The tables exist once the reservations app has created them.
        ("reservations", "0004_user_preference"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=STATE,
        )
    ]
