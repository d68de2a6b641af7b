"""Migrate the provider's database, add its user and client, serve on 127.0.0.1.

Prints the port once it listens, then serves until terminated.
"""

import json
import os
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def main(config_path: str) -> None:
    os.environ["OIDC_PROVIDER_CONFIG"] = config_path
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.accounts.oidc_provider.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command
    from oauth2_provider.models import Application

    config = json.loads(Path(config_path).read_text())
    call_command("migrate", run_syncdb=True, verbosity=0)
    for person in config["users"]:
        get_user_model().objects.create_user(**person)
    Application.objects.create(
        name="platform-booking",
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=config["redirect_uri"],
        post_logout_redirect_uris=config["post_logout_redirect_uri"],
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    server = make_server(
        "127.0.0.1", 0, WSGIHandler(), server_class=ThreadingServer, handler_class=QuietHandler
    )
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
