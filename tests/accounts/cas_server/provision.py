"""Migrate the test CAS server's database and create its users and service pattern.

Run as `python -m tests.accounts.cas_server.provision SERVICE_PATTERN` with CAS_TEST_DB
set; the users come as JSON on standard input: [{"username", "password", "email",
"first_name", "last_name"}, ...].
"""

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.accounts.cas_server.settings")

import django

django.setup()

from cas_server.models import ReplaceAttributName, ServicePattern  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402


def main(pattern: str, users: list[dict[str, str]]) -> None:
    call_command("migrate", verbosity=0)
    for user in users:
        get_user_model().objects.create_user(**user)
    service = ServicePattern.objects.create(
        name="platform-booking", pattern=pattern, single_log_out=True
    )
    for name, replace in (("email", "mail"), ("first_name", "givenName"), ("last_name", "sn")):
        ReplaceAttributName.objects.create(name=name, replace=replace, service_pattern=service)


if __name__ == "__main__":
    main(sys.argv[1], json.load(sys.stdin))
