"""A real SAML 2 identity provider for the tests: pysaml2's own IdP (saml2.server.Server)
behind a small WSGI app on 127.0.0.1 (a free port), with keys made at start.

- GET  /metadata          its metadata (single logout advertised); /metadata-noslo without
- GET  /sso               an AuthnRequest by HTTP-Redirect: the login form, or at once the
                          answer when this browser already has a session here (SSO)
- POST /login             the login form: checks the password, opens the session, answers
- GET  /slo               a LogoutRequest by HTTP-Redirect: ends the session, answers by
                          redirect to the service provider

The answer is a page with a form that posts the signed Response to the service provider's
ACS, as a browser would. Knobs the tests turn: `users` (attributes and NameID of each
person), `audience` (answer for another service provider), `tamper` (change the answer
after signing it), `sign` (off: an unsigned answer), `logins` (how many times a password
was asked).
"""

from __future__ import annotations

import base64
import datetime
import html
import re
import secrets
import shutil
import tempfile
import threading
import warnings
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import saml2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import (
    AUTHN_PASSWORD,
    NAME_FORMAT_URI,
    NAMEID_FORMAT_PERSISTENT,
    NAMEID_FORMAT_TRANSIENT,
    NameID,
)

from accounts.saml_config import ATTRIBUTE_MAPS

with warnings.catch_warnings():
    # pysaml2 7.5.5's IdP names a cipher mode cryptography 50 moved (it still works).
    warnings.filterwarnings("ignore", "CFB has been moved")
    from saml2.server import Server

COOKIE = "idp_session"
OTHER_SP = "https://other-sp.example.org/saml/metadata/"


def make_key_pair(directory: Path, name: str) -> tuple[str, str]:
    """A private key and its self-signed certificate, as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = directory / f"{name}.key", directory / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_file), str(cert_file)


@dataclass
class Person:
    password: str
    attributes: dict[str, list[str]]
    # persistent (an opaque stable value), transient (new at each login), or None
    name_id_format: str | None = NAMEID_FORMAT_PERSISTENT
    name_id: str = field(default_factory=lambda: secrets.token_hex(16))


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class SamlIdP:
    """Start with `start()`, stop with `stop()`."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="saml-idp-"))
        self.key_file, self.cert_file = make_key_pair(self.dir, "idp")
        self.users: dict[str, Person] = {}
        self.sessions: dict[str, str] = {}
        self.audience: str | None = None
        self.tamper: tuple[str, str] | None = None
        self.sign = True
        self.logins = 0
        self.logouts = 0
        self.server = make_server("127.0.0.1", 0, self.app, WSGIServer, _QuietHandler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.entity_id = f"{self.base}/metadata"
        self.idp: Server | None = None  # made once the service provider's metadata is known
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _config(self, *, slo: bool, sp_metadata: list[str] | None = None) -> IdPConfig:
        endpoints: dict[str, Any] = {
            "single_sign_on_service": [(f"{self.base}/sso", saml2.BINDING_HTTP_REDIRECT)]
        }
        if slo:
            endpoints["single_logout_service"] = [(f"{self.base}/slo", saml2.BINDING_HTTP_REDIRECT)]
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "xmlsec_binary": shutil.which("xmlsec1"),
                "attribute_map_dir": ATTRIBUTE_MAPS,
                "key_file": self.key_file,
                "metadata": {"inline": sp_metadata} if sp_metadata else {},
                "cert_file": self.cert_file,
                "service": {
                    "idp": {
                        "name": "Test IdP",
                        "endpoints": endpoints,
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT],
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": 15},
                                # urn:oid names, as RENATER sends them
                                "name_form": NAME_FORMAT_URI,
                                "fail_on_missing_requested": False,
                            }
                        },
                    }
                },
            }
        )
        return config

    def metadata(self, *, slo: bool = True) -> str:
        return str(entity_descriptor(self._config(slo=slo)))

    def load_sp_metadata(self, xml: str, entity_id: str) -> None:
        """Know our service provider, and another one (OTHER_SP) at the same addresses: an
        answer meant for that one, posted to ours, must be refused for its audience."""
        other = xml.replace(f'entityID="{entity_id}"', f'entityID="{OTHER_SP}"')
        self.idp = Server(config=self._config(slo=True, sp_metadata=[xml, other]))

    def start(self) -> SamlIdP:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- WSGI ------------------------------------------------------------------------

    def app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        method, route = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            form = {
                k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()
            }
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        session = cookie[COOKIE].value if COOKIE in cookie else ""
        try:
            if method == "GET" and route in ("/metadata", "/metadata-noslo"):
                body = self.metadata(slo=route == "/metadata")
                return self._answer(start_response, body, content_type="text/xml")
            if method == "GET" and route == "/sso":
                user = self.sessions.get(session)
                if user is None:
                    return self._answer(start_response, self._login_form(query))
                return self._answer(start_response, self._authn_response(query, user))
            if method == "POST" and route == "/login":
                person = self.users.get(form.get("username", ""))
                if person is None or person.password != form.get("password"):
                    return self._answer(start_response, self._login_form(form), "401 Unauthorized")
                self.logins += 1
                session = secrets.token_urlsafe(16)
                self.sessions[session] = form["username"]
                headers = [("Set-Cookie", f"{COOKIE}={session}; Path=/; HttpOnly")]
                body = self._authn_response(form, form["username"])
                return self._answer(start_response, body, headers=headers)
            if method == "GET" and route == "/slo":
                return self._logout(start_response, query, session)
        except Exception as exc:
            return self._answer(start_response, f"error: {exc!r}", "400 Bad Request")
        return self._answer(start_response, "not found", "404 Not Found")

    def _answer(
        self,
        start_response: Any,
        body: str,
        status: str = "200 OK",
        content_type: str = "text/html",
        headers: list[tuple[str, str]] | None = None,
    ) -> list[bytes]:
        data = body.encode()
        start_response(
            status,
            [("Content-Type", f"{content_type}; charset=utf-8"), *(headers or [])],
        )
        return [data]

    def _login_form(self, params: dict[str, str]) -> str:
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(params[k])}">'
            for k in ("SAMLRequest", "RelayState", "SigAlg", "Signature")
            if k in params
        )
        return (
            '<form method="post" action="/login">'
            f'{hidden}<input name="username"><input name="password" type="password">'
            "</form>"
        )

    def _authn_response(self, params: dict[str, str], username: str) -> str:
        request = self.idp.parse_authn_request(
            params["SAMLRequest"],
            saml2.BINDING_HTTP_REDIRECT,
            relay_state=params.get("RelayState"),
            sigalg=params.get("SigAlg"),
            signature=params.get("Signature"),
        )
        args = self.idp.response_args(request.message, [saml2.BINDING_HTTP_POST])
        sp = args["sp_entity_id"]
        if self.audience:
            args["sp_entity_id"] = self.audience
        person = self.users[username]
        name_id = None
        if person.name_id_format == NAMEID_FORMAT_PERSISTENT:
            name_id = NameID(
                format=NAMEID_FORMAT_PERSISTENT,
                text=person.name_id,
                name_qualifier=self.entity_id,
                sp_name_qualifier=sp,
            )
        elif person.name_id_format == NAMEID_FORMAT_TRANSIENT:
            name_id = NameID(format=NAMEID_FORMAT_TRANSIENT, text=secrets.token_hex(16))
        args.pop("binding", None)
        response = self.idp.create_authn_response(
            identity=person.attributes,
            userid=username,
            name_id=name_id,
            authn={"class_ref": AUTHN_PASSWORD, "authn_auth": self.entity_id},
            sign_response=self.sign,
            sign_assertion=self.sign,
            **args,
        )
        xml = str(response)
        if self.tamper:
            xml = xml.replace(*self.tamper)
        encoded = base64.b64encode(xml.encode()).decode()
        relay = html.escape(params.get("RelayState", ""))
        return (
            f'<form method="post" action="{html.escape(args["destination"])}">'
            f'<input type="hidden" name="SAMLResponse" value="{encoded}">'
            f'<input type="hidden" name="RelayState" value="{relay}"></form>'
        )

    def logout_request_url(self, username: str, sp_entity_id: str, destination: str) -> str:
        """A LogoutRequest of the provider's own (another service's logout ended the
        person's campus session), sent by HTTP-Redirect to a service provider."""
        assert self.idp is not None
        name_id = NameID(
            format=NAMEID_FORMAT_PERSISTENT,
            text=self.users[username].name_id,
            name_qualifier=self.entity_id,
            sp_name_qualifier=sp_entity_id,
        )
        _, request = self.idp.create_logout_request(
            destination, issuer_entity_id=sp_entity_id, name_id=name_id, sign=False
        )
        info = self.idp.apply_binding(
            saml2.BINDING_HTTP_REDIRECT, str(request), destination, "", sign=True
        )
        return dict(info["headers"])["Location"]

    def _logout(self, start_response: Any, query: dict[str, str], session: str) -> list[bytes]:
        request = self.idp.parse_logout_request(
            query["SAMLRequest"],
            saml2.BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"),
            signature=query.get("Signature"),
        )
        self.sessions.pop(session, None)
        self.logouts += 1
        response = self.idp.create_logout_response(request.message, [saml2.BINDING_HTTP_REDIRECT])
        args = self.idp.response_args(request.message, [saml2.BINDING_HTTP_REDIRECT])
        info = self.idp.apply_binding(
            saml2.BINDING_HTTP_REDIRECT,
            str(response),
            args["destination"],
            query.get("RelayState", ""),
            response=True,
            sign=True,
        )
        location = dict(info["headers"])["Location"]
        start_response(
            "302 Found",
            [("Location", location), ("Set-Cookie", f"{COOKIE}=; Path=/; Max-Age=0")],
        )
        return [b""]


def form_fields(page: str) -> tuple[str, dict[str, str]]:
    """The action and the hidden fields of the answer page's form."""
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    assert action, page
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    return html.unescape(action.group(1)), {k: html.unescape(v) for k, v in fields.items()}
