"""Which application sits behind the sessions (the order path arrives with its own issue)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.config import Config

if TYPE_CHECKING:
    from gateway.server import Application, Gateway


def build_application(cfg: Config, gateway: Gateway) -> Application:
    from gateway.server import NullApplication

    return NullApplication()
