"""Real mail servers on the loopback for the notification tests: a working SMTP server
(aiosmtpd), one that accepts connections and never answers, and free ports."""

from __future__ import annotations

import asyncio
import socket
import threading
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """What an aiosmtpd server received. `hold_rcpt` / `hold_data` stall the session at
    that command until released (a server slow at that moment); `data_delay` makes every
    DATA answer that many seconds late (a slow server)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.received = threading.Event()
        self.reached = threading.Event()  # a stalled command was reached
        self.hold_rcpt = False
        self.hold_data = False
        self.data_delay = 0.0
        self._release = threading.Event()

    def release(self) -> None:
        self._release.set()

    async def _stall(self) -> None:
        self.reached.set()
        while not self._release.is_set():
            await asyncio.sleep(0.05)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.hold_rcpt:
            await self._stall()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # Stored first: with `hold_data` the server has the message but is slow to say so
        # (the window where a client that dies sends it again, RFC 1047).
        self.messages.append(message_from_bytes(envelope.original_content))
        self.received.set()
        if self.hold_data:
            await self._stall()
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]


class SMTPServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=port)

    def __enter__(self) -> SMTPServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.inbox.release()
        self.controller.stop()


class SilentServer:
    """Accepts every connection and never says a word (no SMTP greeting)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(16)
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _addr = self.listener.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self._thread.join(timeout=5)
        for conn in self.accepted:
            conn.close()
