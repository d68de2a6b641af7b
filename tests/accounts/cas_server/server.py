"""Start and stop the test CAS server (this directory's Django project) under gunicorn on
a free port of 127.0.0.1, with its own SQLite file."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[3]
# Our service URL at any port of the loopback (the live server's, chosen later).
SERVICE_PATTERN = r"^http://(localhost|127\.0\.0\.1):\d+/accounts/cas/login/"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class CASServer:
    def __init__(self, directory: Path, users: list[dict[str, str]]) -> None:
        self.db = directory / "cas.sqlite3"
        self.log = directory / "cas.log"
        self.users = users
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.process: subprocess.Popen[bytes] | None = None
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.accounts.cas_server.settings",
            "CAS_TEST_DB": str(self.db),
            "PYTHONPATH": str(ROOT),
        }

    def start(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "tests.accounts.cas_server.provision", SERVICE_PATTERN],
            input=json.dumps(self.users).encode(),
            env=self.env,
            cwd=ROOT,
            check=True,
            timeout=60,
        )
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    "1",
                    # Its logout waits for our answer to its single logout request.
                    "--threads",
                    "4",
                    "tests.accounts.cas_server.wsgi:application",
                ],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()  # never an orphan server, whatever stopped the start
            raise

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process.wait()
                raise RuntimeError(f"the CAS server stopped: {self.log.read_text()}")
            try:
                if requests.get(self.url + "login", timeout=2).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or its worker still loading
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the CAS server did not start: {self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def update_user(self, username: str, **fields: str) -> None:
        """Change a person at the CAS server (its directory), as an administrator would."""
        columns = ", ".join(f"{name} = ?" for name in fields)
        with sqlite3.connect(self.db) as db:
            db.execute(
                f"UPDATE auth_user SET {columns} WHERE username = ?", [*fields.values(), username]
            )
