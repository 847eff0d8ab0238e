"""structlog setup: JSON lines when stderr is not a terminal, key=value when it is."""

from __future__ import annotations

import logging
import sys

import structlog

#: True when --log-level debug: hot paths test it before building a per-message debug line
DEBUG = False


def configure_logging(level: str = "info", json: bool | None = None) -> None:
    """Configure structlog once for the process; `json=None` decides by whether stderr is a tty."""
    global DEBUG
    DEBUG = level.lower() == "debug"
    use_json = (not sys.stderr.isatty()) if json is None else json
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
