"""Partners and projects moved to the partners app; closures came here from equipment.

State only: every table keeps its name and rows. The content types move with the models
so that admin history, permissions and the calendar mirror's links stay attached.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVES = [
    # (old app, new app, model)
    ("reservations", "partners", "partner"),
    ("reservations", "partners", "project"),
    ("reservations", "partners", "feedtoken"),
    ("reservations", "partners", "userpreference"),
    ("equipment", "reservations", "closure"),
]


def _merge_into(apps, db, kept, fresh):
    """Give everything that points at `fresh` to `kept`, then delete `fresh`.

    `fresh` exists when post_migrate ran between the state moves and this migration (for
    example `migrate partners` before `migrate`): it has new permissions and maybe admin
    log rows. Grants move to the kept permissions of the same codename.
    """
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for permission in Permission.objects.using(db).filter(content_type=fresh):
        twin = (
            Permission.objects.using(db)
            .filter(content_type=kept, codename=permission.codename)
            .first()
        )
        if twin is None:
            permission.content_type = kept
            permission.save(update_fields=["content_type"])
            continue
        twin.user_set.add(*permission.user_set.all())
        twin.group_set.add(*permission.group_set.all())
        permission.delete()
    for model in apps.get_models():
        if model is Permission:
            continue
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is ContentType:
                model.objects.using(db).filter(**{field.name: fresh}).update(**{field.name: kept})
    fresh.delete()


def _move_content_types(apps, schema_editor, forward=True):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for old, new, model in MOVES:
        source, target = (old, new) if forward else (new, old)
        moving = ContentType.objects.using(db).filter(app_label=source, model=model).first()
        if moving is None:
            continue  # a fresh database: post_migrate creates the content types later
        there = ContentType.objects.using(db).filter(app_label=target, model=model).first()
        if there is not None:
            _merge_into(apps, db, moving, there)
        moving.app_label = target
        moving.save(update_fields=["app_label"])
    ContentType.objects.clear_cache()


def forwards(apps, schema_editor):
    _move_content_types(apps, schema_editor, forward=True)


def backwards(apps, schema_editor):
    _move_content_types(apps, schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        # Every table that points at content types, for _merge_into.
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("schedule", "0015_rename_indexes"),
        ("equipment", "0002_partner_and_closure_moved"),
        ("partners", "0001_take_over_tables"),
        ("reservations", "0004_user_preference"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='partner',
                    name='referents',
                ),
                migrations.RemoveField(
                    model_name='project',
                    name='partner',
                ),
                migrations.RemoveField(
                    model_name='project',
                    name='leader',
                ),
                migrations.RemoveField(
                    model_name='project',
                    name='members',
                ),
                migrations.AlterField(
                    model_name='reservation',
                    name='project',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reservations', to='partners.project', verbose_name='project'),
                ),
                migrations.RemoveField(
                    model_name='userpreference',
                    name='user',
                ),
                migrations.CreateModel(
                    name='Closure',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('start', models.DateTimeField(verbose_name='start')),
                        ('end', models.DateTimeField(verbose_name='end')),
                        ('reason', models.CharField(max_length=255, verbose_name='reason')),
                        ('kind', models.CharField(choices=[('maintenance', 'maintenance'), ('holiday', 'holiday'), ('event', 'event'), ('other', 'other')], default='other', max_length=12, verbose_name='kind')),
                        ('source', models.CharField(blank=True, max_length=255, verbose_name='source')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                        ('equipment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='closures', to='equipment.equipment', verbose_name='equipment')),
                        ('site', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='closures', to='equipment.site', verbose_name='site')),
                    ],
                    options={
                        'verbose_name': 'closure',
                        'verbose_name_plural': 'closures',
                        'db_table': 'equipment_closure',
                        'ordering': ['start'],
                    },
                ),
                migrations.DeleteModel(
                    name='FeedToken',
                ),
                migrations.DeleteModel(
                    name='Partner',
                ),
                migrations.DeleteModel(
                    name='Project',
                ),
                migrations.DeleteModel(
                    name='UserPreference',
                ),
                migrations.AddIndex(
                    model_name='closure',
                    index=models.Index(fields=['start', 'end'], name='closure_period'),
                ),
                migrations.AddConstraint(
                    model_name='closure',
                    constraint=models.CheckConstraint(condition=models.Q(('start__lt', models.F('end'))), name='closure_start_before_end'),
                ),
                migrations.AddConstraint(
                    model_name='closure',
                    constraint=models.CheckConstraint(condition=models.Q(('equipment__isnull', True), ('site__isnull', True), _connector='OR'), name='closure_equipment_or_site'),
                ),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
