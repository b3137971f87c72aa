"""Config: frozen attrs classes, a strict cattrs converter, `${VAR}` expansion, errors with paths."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs
import yaml

from gateway import config_checks as checks
from gateway import redact
from gateway.convert import STRICT, error_paths
from gateway.dialects import PROVIDER_TYPES
from gateway.state import settings as state_settings
from gateway.state.settings import CacheConfig, StateConfig

_CONV = STRICT.copy()
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
DEFAULT_PATH = "config.yaml"


@attrs.frozen(kw_only=True)
class ServerConfig:
    """Where the gateway listens and how it drains.

    After SIGTERM the gateway fails readiness at once, keeps serving for `pre_stop_delay` seconds
    so load balancers move away, then stops accepting and gives in-flight requests up to
    `drain_timeout` seconds (kept below Kubernetes' default 30 s grace period).
    """

    host: str = "127.0.0.1"
    port: int = 8080
    drain_timeout: float = 20.0
    pre_stop_delay: float = 0.0
    #: Seconds between checks of the config file for changes; 0 turns watching off (SIGHUP still reloads).
    config_poll_interval: float = 2.0
    #: Serve well-formed rerank POSTs with the gateway's lean HTTP/1.1 reader (gateway/web/fastlane.py);
    #: false leaves every request to aiohttp's server.
    fast_lane: bool = True
    #: Seconds a client connection may stay open with no request on it (keep it above a load balancer's idle timeout).
    keepalive_timeout: float = 75.0


@attrs.frozen(kw_only=True)
class ApiKey:
    """One gateway API key; `name` is what logs and metrics show, never the key."""

    name: str
    key: str
    #: Requests per minute this key may make, across every replica; None means no limit.
    rpm: int | None = None
    #: Documents per minute this key may send, across every replica; None means no limit.
    dpm: int | None = None
    #: The models this key may use; None means every model.
    models: tuple[str, ...] | None = None


@attrs.frozen(kw_only=True)
class AuthConfig:
    """Gateway API keys; `admin_key` guards the admin endpoints."""

    api_keys: tuple[ApiKey, ...] = ()
    admin_key: str | None = None


@attrs.frozen(kw_only=True)
class LimitsConfig:
    """Bounds on one client request, so no request can exhaust memory."""

    max_body_bytes: int = 32 * 1024 * 1024
    max_documents: int = 10_000
    max_query_chars: int = 32_000
    max_document_chars: int = 200_000
    #: Bytes of client request bodies served at once; past it, requests wait their turn. None: no bound.
    max_bytes_in_flight: int | None = 4 * 1024 * 1024


@attrs.frozen(kw_only=True)
class BreakerConfig:
    """When a provider's circuit breaker opens, and for how long."""

    #: Consecutive failed attempts that open the breaker.
    failures: int = 5
    #: Share of failed attempts within `window` that opens it (once `min_calls` were made).
    failure_rate: float = 0.5
    window: float = 30.0
    min_calls: int = 20
    #: Seconds the breaker stays open before one probe request is let through.
    cooldown: float = 15.0
    #: Longest a Retry-After may keep the breaker open.
    max_open: float = 300.0
    #: Seconds after which a try the request stopped (its deadline, a won hedge) counts as failed.
    slow_call: float = 5.0


@attrs.frozen(kw_only=True)
class HealthCheckConfig:
    """An active health check: a small real rerank call with a known answer, on an interval."""

    interval: float = 30.0
    timeout: float = 5.0
    #: The upstream model to ask; by default the model of the first route naming this provider.
    model: str | None = None


@attrs.frozen(kw_only=True)
class ProviderConfig:
    """One upstream: its dialect (`type`), where it is, its key and its limits."""

    type: str
    base_url: str | None = None
    url: str | None = None
    api_key: str | None = None
    timeout: float = 10.0
    connect_timeout: float = 3.0
    max_retries: int = 2
    max_documents: int | None = None
    max_connections: int = 64
    max_response_bytes: int = 16 * 1024 * 1024
    headers: Mapping[str, str] = attrs.field(factory=dict)
    #: `sigmoid` maps the provider's raw logits (NIM, raw-score servers) to [0, 1]; `as-is` passes them on.
    scores: Literal["as-is", "sigmoid"] = "as-is"
    #: Whether this provider's scores may be kept in the score cache.
    cache: bool = True
    #: A PEM file of extra CA certificates for a private deployment; verification is always on.
    ca_bundle: str | None = None
    #: Honour HTTPS_PROXY / HTTP_PROXY / NO_PROXY; None means `resilience.trust_env`.
    trust_env: bool | None = None
    #: Overrides `resilience.breaker` for this provider.
    breaker: BreakerConfig | None = None
    health_check: HealthCheckConfig | None = None
    #: Set by the loader, not by users: why this provider is disabled, if it is.
    disabled: str | None = None


@attrs.frozen(kw_only=True)
class Route:
    """One step of a model's provider list."""

    provider: str
    model: str = ""
    #: Lower tiers are tried first; by default the entry's position in the list.
    priority: int | None = None
    #: Share of traffic within a tier, relative to the other entries of the same priority.
    weight: float = 1.0


@attrs.frozen(kw_only=True)
class HedgeConfig:
    """Start the next provider in parallel when the current one has not answered after `delay`."""

    delay: float
    max_parallel: int = 2


@attrs.frozen(kw_only=True)
class ModelConfig:
    """A client-facing model: the providers tried in order, under one deadline."""

    providers: tuple[Route, ...]
    type: Literal["rerank"] = "rerank"
    timeout: float | None = None
    hedge: HedgeConfig | None = None


@attrs.frozen(kw_only=True)
class RetryBudgetConfig:
    """Retries stay within `ratio` of first attempts over `window`, plus `min_per_second`."""

    ratio: float = 0.2
    min_per_second: float = 1.0
    window: float = 10.0


@attrs.frozen(kw_only=True)
class ResilienceConfig:
    """Process-wide failover settings: budget, breakers, hedges, the cap on client deadlines."""

    #: Upper bound on a deadline a client asks for with `x-request-timeout`.
    max_request_timeout: float = 300.0
    retry_budget: RetryBudgetConfig = RetryBudgetConfig()
    breaker: BreakerConfig = BreakerConfig()
    #: Hedged attempts that may run at once across the process.
    max_hedges: int = 32
    #: Default of every provider's `trust_env`.
    trust_env: bool = False


@attrs.frozen(kw_only=True)
class Config:
    """The whole gateway configuration, as loaded from one YAML file."""

    providers: Mapping[str, ProviderConfig]
    models: Mapping[str, ModelConfig]
    server: ServerConfig = ServerConfig()
    auth: AuthConfig | None = None
    limits: LimitsConfig = LimitsConfig()
    resilience: ResilienceConfig = ResilienceConfig()
    #: Default deadline (seconds) for one client request, shared by all attempts.
    request_timeout: float = 30.0
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    #: The model for requests that name none (TEI has no model field); by default the only model, if one.
    default_model: str | None = None
    state: StateConfig = attrs.field(factory=StateConfig)
    cache: CacheConfig = attrs.field(factory=CacheConfig)
    #: Filled by the loader: warnings to print at start-up.
    warnings: tuple[str, ...] = ()


class ConfigError(Exception):
    """Raised when a config cannot be used; `problems` are `path: message` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load(path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None) -> Config:
    """Read, expand and validate a config file; raise ConfigError listing every problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read config ({exc.strerror})"]) from None
    return parse(text, env=os.environ if env is None else env)


def parse(text: str, *, env: Mapping[str, str]) -> Config:
    """Parse YAML text into a Config; raise ConfigError listing every problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([f"$: not valid YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise ConfigError(["$: the config must be a mapping with `providers` and `models`"])
    problems: list[str] = []
    warnings: list[str] = []
    expanded = _expand_all(raw, env=env, problems=problems, warnings=warnings)
    if problems:
        raise ConfigError(problems)
    try:
        config = _CONV.structure(expanded, Config)
    except Exception as exc:  # noqa: BLE001 - cattrs raises an exception group of many kinds
        raise ConfigError([f"{p}: {m}" for p, m in error_paths(exc)]) from None
    config = checks.trimmed(config)
    problems.extend(_check(config))
    if problems:
        raise ConfigError(problems)
    if config.auth is None:
        warnings.append("auth is not configured: every client may call the gateway")
    return attrs.evolve(config, warnings=tuple(warnings))


def _expand_all(raw: dict[str, Any], *, env: Mapping[str, str], problems: list[str], warnings: list[str]) -> Any:
    """Expand `${VAR}` everywhere; an unset provider key disables that provider."""
    expanded = _expand(raw, "$", env, problems)
    providers = raw.get("providers")
    if isinstance(providers, dict):
        for name, spec in providers.items():
            key = spec.get("api_key") if isinstance(spec, dict) else None
            missing = _missing(key, env) if isinstance(key, str) else []
            if missing:
                expanded["providers"][name]["api_key"] = None
                expanded["providers"][name]["disabled"] = f"${{{missing[0]}}} is not set"
                warnings.append(f"provider {name!r} disabled: environment variable {missing[0]} is not set")
            elif isinstance(spec, dict) and "disabled" in spec:
                problems.append(f"$.providers.{name}: unknown field(s): disabled")
    auth = raw.get("auth")
    keys = auth.get("api_keys") if isinstance(auth, dict) else None
    if isinstance(keys, list):
        kept = []
        for i, entry in enumerate(keys):
            key = entry.get("key") if isinstance(entry, dict) else None
            missing = _missing(key, env) if isinstance(key, str) else []
            if missing:
                warnings.append(f"auth key $.auth.api_keys[{i}] ignored: {missing[0]} is not set")
            elif isinstance(key, str) and not _expand(key, "", env, []).strip():
                problems.append(f"$.auth.api_keys[{i}].key: must not be empty")
            else:
                kept.append(expanded["auth"]["api_keys"][i])
        expanded["auth"]["api_keys"] = kept
    return expanded


def _missing(text: str, env: Mapping[str, str]) -> list[str]:
    return [m.group(1) for m in _VAR.finditer(text) if m.group(1) not in env and m.group(2) is None]


def _expand(value: Any, path: str, env: Mapping[str, str], problems: list[str]) -> Any:
    if isinstance(value, str):
        return _VAR.sub(lambda m: _lookup(m, path, env, problems), value)
    if isinstance(value, dict):
        return {k: _expand(v, f"{path}.{k}", env, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, f"{path}[{i}]", env, problems) for i, v in enumerate(value)]
    return value


def _lookup(match: re.Match[str], path: str, env: Mapping[str, str], problems: list[str]) -> str:
    name, default = match.group(1), match.group(2)
    if name in env:
        return env[name]
    if default is not None:
        return default
    if not path.endswith((".api_key", ".key")):
        problems.append(f"{path}: environment variable {name} is not set")
    return ""


def _check(config: Config) -> list[str]:
    """Checks across fields that the types alone cannot express."""
    problems = [p for name, spec in config.providers.items() for p in _check_provider(name, spec)]
    problems.extend(checks.header_values(config))
    problems.extend(_check_models(config))
    problems.extend(state_settings.check(config.state, config.cache))
    problems.extend(_check_keys(config))
    problems.extend(_check_resilience(config))
    if config.limits.max_bytes_in_flight is not None and config.limits.max_bytes_in_flight < 1:
        problems.append("$.limits.max_bytes_in_flight: must be at least 1, or null for no bound")
    if config.request_timeout <= 0:
        problems.append("$.request_timeout: must be greater than 0")
    if not 0 <= config.server.port <= 65535:
        problems.append("$.server.port: must be between 0 and 65535")
    for field in ("pre_stop_delay", "config_poll_interval"):
        if not getattr(config.server, field) >= 0:
            problems.append(f"$.server.{field}: must be 0 or more")
    for field in ("drain_timeout", "keepalive_timeout"):
        if not getattr(config.server, field) > 0:
            problems.append(f"$.server.{field}: must be greater than 0")
    return problems


def _check_provider(name: str, p: ProviderConfig) -> list[str]:
    problems: list[str] = []
    at = f"$.providers.{name}"
    if p.type not in PROVIDER_TYPES:
        known = ", ".join(sorted(PROVIDER_TYPES))
        return [f"{at}.type: unknown provider type {p.type!r} (known: {known})"]
    remote = p.type != "local"
    if remote and not (p.base_url or p.url):
        problems.append(f"{at}: `base_url` (or `url`) is required for type {p.type!r}")
    for field in ("base_url", "url"):
        value = getattr(p, field)
        if value is not None and not checks.is_http_url(value):
            problems.append(f"{at}.{field}: must be an http:// or https:// URL, got {redact.url(value)!r}")
    for field in ("timeout", "connect_timeout"):
        if getattr(p, field) <= 0:
            problems.append(f"{at}.{field}: must be greater than 0")
    for field in ("max_retries",):
        if getattr(p, field) < 0:
            problems.append(f"{at}.{field}: must be 0 or more")
    if p.max_documents is not None and p.max_documents < 1:
        problems.append(f"{at}.max_documents: must be at least 1")
    if not remote and p.scores != "as-is":
        problems.append(f"{at}.scores: the local ranker's scores are already in [0, 1]; leave `scores` out")
    return problems


def _check_models(config: Config) -> list[str]:
    problems: list[str] = []
    for name, m in config.models.items():
        at = f"$.models.{name}"
        if not m.providers:
            problems.append(f"{at}.providers: must list at least one provider")
        for i, route in enumerate(m.providers):
            if route.provider not in config.providers:
                problems.append(f"{at}.providers[{i}].provider: unknown provider {route.provider!r}")
        if m.timeout is not None and m.timeout <= 0:
            problems.append(f"{at}.timeout: must be greater than 0")
    if config.default_model is not None and config.default_model not in config.models:
        problems.append(f"$.default_model: unknown model {config.default_model!r}")
    return problems


def _check_keys(config: Config) -> list[str]:
    """Per-key quotas and model allow-lists."""
    problems: list[str] = []
    for i, key in enumerate(config.auth.api_keys if config.auth else ()):
        for field in ("rpm", "dpm"):
            value = getattr(key, field)
            if value is not None and value < 1:
                problems.append(f"$.auth.api_keys[{i}].{field}: must be at least 1")
        for j, name in enumerate(key.models or ()):
            if name not in config.models:
                problems.append(f"$.auth.api_keys[{i}].models[{j}]: unknown model {name!r}")
    return problems + checks.unique_keys(config.auth.api_keys if config.auth else ())


def _positive(at: str, **values: float) -> list[str]:
    return [f"{at}.{k}: must be greater than 0" for k, v in values.items() if v <= 0]


def _check_breaker(at: str, b: BreakerConfig) -> list[str]:
    problems = _positive(at, window=b.window, cooldown=b.cooldown, max_open=b.max_open, slow_call=b.slow_call)
    problems += [
        f"{at}.{k}: must be at least 1" for k, v in (("failures", b.failures), ("min_calls", b.min_calls)) if v < 1
    ]
    if not 0 < b.failure_rate <= 1:
        problems.append(f"{at}.failure_rate: must be greater than 0 and at most 1")
    return problems


def _check_resilience(config: Config) -> list[str]:
    """Budget, breakers, health checks, TLS files, tiers and hedges."""
    r = config.resilience
    problems = _positive("$.resilience", max_request_timeout=r.max_request_timeout, window=r.retry_budget.window)
    if r.retry_budget.ratio < 0 or r.retry_budget.min_per_second < 0:
        problems.append("$.resilience.retry_budget: ratio and min_per_second must be 0 or more")
    if r.max_hedges < 0:
        problems.append("$.resilience.max_hedges: must be 0 or more")
    problems += _check_breaker("$.resilience.breaker", r.breaker)
    for name, p in config.providers.items():
        at = f"$.providers.{name}"
        if p.breaker is not None:
            problems += _check_breaker(f"{at}.breaker", p.breaker)
        if p.health_check is not None:
            problems += _positive(
                f"{at}.health_check", interval=p.health_check.interval, timeout=p.health_check.timeout
            )
        if p.ca_bundle is not None:
            problems += checks.ca_bundle(f"{at}.ca_bundle", p.ca_bundle)
    for name, m in config.models.items():
        at = f"$.models.{name}"
        for i, route in enumerate(m.providers):
            if route.weight <= 0:
                problems.append(f"{at}.providers[{i}].weight: must be greater than 0")
        if m.hedge is not None:
            problems += _positive(f"{at}.hedge", delay=m.hedge.delay)
            if m.hedge.max_parallel < 2:
                problems.append(f"{at}.hedge.max_parallel: must be at least 2")
    return problems
