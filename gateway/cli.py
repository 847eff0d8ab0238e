"""`ats-gateway`: serve the gateway, or check a config file."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path

import structlog

from gateway.config import Config, ConfigError, load_config, load_default_config
from gateway.logs import configure_logging


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ats-gateway",
        description="FIX 4.2 acceptor with an embedded ATS matching engine.",
    )
    p.add_argument("--config", type=Path, help="config TOML (default: the embedded demo venue)")
    p.add_argument("--port", type=int, help="listen on this port instead of the config's")
    p.add_argument("--host", help="listen on this address instead of the config's")
    p.add_argument("--data-dir", type=Path, help="stores, journal and message logs go here")
    p.add_argument(
        "--admin-port",
        type=int,
        help="serve metrics, health and status on this port instead of the config's (0: any)",
    )
    p.add_argument(
        "--check-config",
        type=Path,
        metavar="PATH",
        help="validate a config, print every problem, exit 1 on error",
    )
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return p


def print_issues(exc: ConfigError) -> int:
    """Every problem of a config on stderr, one a line; the exit status 1."""
    for issue in exc.issues:
        print(issue, file=sys.stderr)
    return 1


def check_config(path: Path) -> int:
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        return print_issues(exc)
    print(
        f"{path}: OK ({len(cfg.sessions)} sessions, {len(cfg.participants)} participants, "
        f"{len(cfg.symbols)} symbols)"
    )
    return 0


def resolve_config(args: argparse.Namespace) -> Config:
    cfg = load_config(args.config) if args.config else load_default_config()
    gw = cfg.gateway
    if args.port is not None:
        gw = replace(gw, port=args.port)
    if args.host is not None:
        gw = replace(gw, host=args.host)
    if args.data_dir is not None:
        gw = replace(gw, data_dir=args.data_dir.resolve())
    admin = cfg.admin
    if args.admin_port is not None:
        admin = replace(admin, port=args.admin_port)
    return replace(cfg, gateway=gw, admin=admin)


async def serve(cfg: Config) -> int:
    from gateway.admin import AdminServer
    from gateway.app import build_application
    from gateway.server import Gateway
    from gateway.storage import (
        EXIT_STORAGE_FAILED,
        StorageUnavailable,
        lock_data_dir,
        prepare_data_dir,
    )

    log = structlog.get_logger("gateway")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    data_dir = cfg.gateway.data_dir
    try:
        lock = lock_data_dir(data_dir)  # held until the process ends
        prepare_data_dir(data_dir)
        gateway = Gateway(cfg, data_dir)
        gateway.app = build_application(cfg, gateway)
    except (StorageUnavailable, OSError) as exc:
        log.error("storage_unavailable", data_dir=str(data_dir), error=str(exc))
        return EXIT_STORAGE_FAILED
    # What exists now (config, the recovered book, store indexes) lives for the process: keep
    # it out of the collector's scans, and collect young objects less often (measured in
    # bench/e2e.py: the cyclic collector was a visible share of the per-order cost).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    admin = AdminServer(gateway, cfg.admin) if cfg.admin.enabled else None
    try:
        if admin is not None:
            await admin.start()
    except OSError as exc:
        log.error("admin_cannot_listen", host=cfg.admin.host, port=cfg.admin.port, error=str(exc))
        return 1
    try:
        await gateway.start()
    except OSError as exc:
        log.error("cannot_listen", host=cfg.gateway.host, port=cfg.gateway.port, error=str(exc))
        return 1
    stopping = asyncio.ensure_future(stop.wait())
    failed = asyncio.ensure_future(gateway.wait_failed())
    await asyncio.wait((stopping, failed), return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    failed.cancel()
    if gateway.failure is None:
        log.info("shutting_down")
    await gateway.shutdown()
    if admin is not None:
        await admin.close()
    os.close(lock)
    return gateway.exit_status


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.check_config is not None:
        return check_config(args.check_config)
    from gateway.fix._build import use_huge_arenas

    use_huge_arenas()  # first: the memory of everything built from here on
    configure_logging(args.log_level)
    try:
        cfg = resolve_config(args)
    except ConfigError as exc:
        return print_issues(exc)
    import uvloop

    return uvloop.run(serve(cfg))


if __name__ == "__main__":
    sys.exit(main())
