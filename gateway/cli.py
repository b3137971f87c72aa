"""The command line: `serve` runs the gateway, `check` validates a config."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Sequence

from aiohttp import web

from gateway import __version__, logs
from gateway import config as config_mod
from gateway.app import create_app
from gateway.config import Config, ConfigError

log = logging.getLogger("gateway")


def _config_arg(parser: argparse.ArgumentParser) -> None:
    default = os.environ.get("RERANK_GATEWAY_CONFIG", config_mod.DEFAULT_PATH)
    parser.add_argument(
        "--config", default=default, help=f"config file (default: $RERANK_GATEWAY_CONFIG or {config_mod.DEFAULT_PATH})"
    )


def parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per action."""
    top = argparse.ArgumentParser(prog="rerank-gateway", description="One rerank API in front of many providers.")
    top.add_argument("--version", action="version", version=f"rerank-gateway {__version__}")
    sub = top.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the gateway", description="Run the gateway on a config file.")
    _config_arg(serve)
    serve.add_argument("--host", help="address to bind (default: server.host from the config)")
    serve.add_argument("--port", type=int, help="port to bind (default: server.port from the config)")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="override log_level")
    check = sub.add_parser("check", help="validate a config", description="Validate a config and summarise it.")
    _config_arg(check)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `rerank-gateway` and `python -m gateway`."""
    args = parser().parse_args(argv)
    try:
        config = config_mod.load(args.config)
    except ConfigError as exc:
        print(f"{args.config}: invalid config", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    if args.command == "check":
        print(summary(config, path=args.config))
        return 0
    return serve(config, host=args.host, port=args.port, log_level=args.log_level)


def summary(config: Config, *, path: str) -> str:
    """A one-screen summary: providers and whether they are enabled, models and their order."""
    lines = [f"{path}: OK", "providers:"]
    for name, p in config.providers.items():
        state = f"disabled ({p.disabled})" if p.disabled else "enabled"
        where = p.url or p.base_url or "in process"
        lines.append(f"  {name:<16} {p.type:<12} {state:<10} {where}")
    lines.append("models:")
    for name, m in config.models.items():
        lines.append(f"  {name} (deadline {m.timeout or config.request_timeout:g}s)")
        for i, r in enumerate(m.providers, 1):
            off = " [disabled, skipped]" if config.providers[r.provider].disabled else ""
            lines.append(f"    {i}. {r.provider} -> {r.model or '(default)'}{off}")
    lines.append("auth: " + (f"{len(config.auth.api_keys)} key(s)" if config.auth else "off (no `auth` section)"))
    lines.extend(f"warning: {w}" for w in config.warnings)
    return "\n".join(lines)


def serve(config: Config, *, host: str | None, port: int | None, log_level: str | None) -> int:
    """Run the gateway until SIGINT or SIGTERM."""
    logs.setup(log_level or config.log_level, background=True)
    for warning in config.warnings:
        log.warning(warning)
    try:
        import uvloop  # noqa: PLC0415 - optional speed-up, only where installed

        uvloop.install()
    except ImportError:
        pass
    bind_host = host or config.server.host
    bind_port = config.server.port if port is None else port
    log.info("listening", extra={"host": bind_host, "port": bind_port, "models": sorted(config.models)})
    app = create_app(config)
    # Everything built so far (modules, config, routes) lives as long as the process: freeze it out of
    # the collector, so the full collections that requests trigger scan only what requests made.
    gc.collect()
    gc.freeze()
    web.run_app(
        app,
        host=bind_host,
        port=bind_port,
        shutdown_timeout=config.server.drain_timeout,
        handler_cancellation=True,
        access_log=None,
        print=None,
    )
    return 0
