"""The command line: `serve` runs the gateway, `check` validates a config."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from gateway import __version__, logs, redact, server, workers
from gateway import config as config_mod
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
    serve.add_argument(
        "--workers", type=_positive, default=1, help="serving processes sharing the port, one event loop each"
    )
    serve.add_argument("--reuse-port", action="store_true", help="bind with SO_REUSEPORT (set for each worker)")
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
    return serve(config, args)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def summary(config: Config, *, path: str) -> str:
    """A one-screen summary: providers and whether they are enabled, models and their order."""
    lines = [f"{path}: OK", "providers:"]
    for name, p in config.providers.items():
        state = f"disabled ({p.disabled})" if p.disabled else "enabled"
        where = redact.url(p.url or p.base_url or "") or "in process"  # the output may be pasted anywhere
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


def serve(config: Config, args: argparse.Namespace) -> int:
    """Run the gateway (or supervise `--workers` processes running it) until SIGTERM or SIGINT."""
    logs.setup(args.log_level or config.log_level, background=True)
    host = args.host or config.server.host
    port = config.server.port if args.port is None else args.port
    if args.workers > 1:
        _warn_per_worker_quotas(config, args.workers)
        argv = ["serve", "--config", args.config] + (["--log-level", args.log_level] if args.log_level else [])
        return workers.supervise(count=args.workers, host=host, port=port, argv=argv)
    for warning in config.warnings:
        log.warning(warning)
    listen = server.Listen(host=host, port=port, reuse_port=args.reuse_port)
    return server.run(config, path=args.config, listen=listen, log_level_override=args.log_level)


def _warn_per_worker_quotas(config: Config, workers: int) -> None:
    """In-memory quotas are per process: with N workers a key may make up to N times its rpm and dpm."""
    keys = config.auth.api_keys if config.auth else ()
    limited = [k.name for k in keys if k.rpm is not None or k.dpm is not None]
    if config.state.backend != "memory" or not limited:
        return
    log.warning(
        f"--workers {workers} with `state.backend: memory`: each worker keeps its own quotas, so a key may "
        f"make up to {workers} times its rpm/dpm; set `state.backend: redis` to share them across workers",
        extra={"workers": workers, "keys": limited},
    )
