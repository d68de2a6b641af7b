"""What the closure commands share: the scope (--equipment, --site) and the acting user."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from equipment.models import Equipment, Site


class CommandActor:
    """Whoever runs manage.py on the server: a platform manager, recorded as nobody."""

    pk = None
    id = None
    username = "manage.py"
    email = ""
    is_authenticated = True
    is_staff = True
    is_superuser = False

    def __str__(self) -> str:
        return self.username


def add_scope_arguments(parser: ArgumentParser) -> None:
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--equipment", metavar="CODE", help=_("Close this equipment (code)."))
    scope.add_argument("--site", metavar="ID", type=int, help=_("Close this site (id)."))
    parser.add_argument(
        "--user",
        metavar="USERNAME",
        help=_("Act as this user (default: the platform, allowed everything)."),
    )


def resolve_scope(options: dict[str, Any]) -> tuple[Equipment | None, Site | None, Any]:
    equipment = site = None
    if options.get("equipment"):
        equipment = Equipment.objects.filter(code=options["equipment"]).first()
        if equipment is None:
            raise CommandError(
                _("No equipment with code %(code)s.") % {"code": options["equipment"]}
            )
    if options.get("site") is not None:
        site = Site.objects.filter(pk=options["site"]).first()
        if site is None:
            raise CommandError(_("No site with id %(id)s.") % {"id": options["site"]})
    user: Any = CommandActor()
    if options.get("user"):
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(_("No user named %(name)s.") % {"name": options["user"]})
    return equipment, site, user


def scope_label(equipment: Equipment | None, site: Site | None) -> str:
    if equipment is not None:
        return str(equipment.code)
    if site is not None:
        return str(site.name)
    return _("every site")


def displaced_words(count: int) -> str:
    """ "3 reservations displaced", for the closing line of the closure commands."""
    return ngettext("%(n)d reservation displaced", "%(n)d reservations displaced", count) % {
        "n": count
    }
