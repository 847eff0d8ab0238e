"""The callbacks behind the FIX sessions (the order path subclasses `Application`).

A module of its own so that mypyc can compile it with the order path (gateway/app.py) while the
asyncio server (gateway/server.py, which re-exports it) stays Python.
"""

from __future__ import annotations

from gateway.fix import Message


class Application:
    """QuickFIX-style callbacks behind the sessions; the order path subclasses this.

    The defaults accept sessions and drop application messages: the session layer on its own.
    """

    def on_logon(self, key: str, now_ns: int) -> None:
        """A session logged on."""

    def on_logout(self, key: str, now_ns: int) -> None:
        """A logged-on session logged out or lost its connection."""

    def from_app(self, key: str, msg: Message, now_ns: int) -> None:
        """An application message, in sequence."""

    def before_send(self) -> object:
        """Once per loop turn, before the stores are written: hand input to the OS here
        (an OSError is a storage failure). Returns a token for `after_commit`: what this
        turn's commit covers."""
        return None

    def sync(self) -> None:
        """Make the application's input durable now (fsync = "batch": once per turn, before
        the stores are written; "always": also before each message is stored)."""

    def after_commit(self, token: object) -> None:
        """After the stores were synced (up to `token`) and before the sockets are written."""

    def close(self) -> None:
        """At shutdown, after the stores were closed."""
