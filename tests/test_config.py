"""Config loading: the contract's names, `${VAR}` expansion, disabled providers, errors with paths."""

from __future__ import annotations

import pytest

from gateway.config import ConfigError, parse

BASE = """
providers:
  sf: {type: siliconflow, base_url: https://api.siliconflow.cn, api_key: "${SF_KEY}"}
  local: {type: local}
models:
  m:
    type: rerank
    providers:
      - {provider: sf, model: BAAI/bge-reranker-v2-m3}
      - {provider: local, model: bm25}
"""


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse(text, env=env or {})
    return info.value.problems


def test_contract_example_loads_with_keys_set() -> None:
    """The issue's example config loads, keeps order, and expands keys from the environment."""
    config = parse(BASE, env={"SF_KEY": "sk-1"})
    assert config.providers["sf"].api_key == "sk-1"
    assert config.providers["sf"].disabled is None
    assert [r.provider for r in config.models["m"].providers] == ["sf", "local"]
    assert config.server.port == 8080


def test_unset_key_variable_disables_the_provider_with_one_warning() -> None:
    """A provider whose key variable is unset is disabled, with exactly one warning naming it."""
    config = parse(BASE, env={})
    assert config.providers["sf"].disabled == "${SF_KEY} is not set"
    assert [w for w in config.warnings if "sf" in w] == [
        "provider 'sf' disabled: environment variable SF_KEY is not set"
    ]


def test_default_syntax_and_expansion_in_any_string() -> None:
    """`${VAR:-default}` falls back to the default, and expansion works in any string value."""
    text = BASE.replace("https://api.siliconflow.cn", '"${SF_URL:-https://sf.example}"')
    config = parse(text, env={"SF_KEY": "k"})
    assert config.providers["sf"].base_url == "https://sf.example"
    config = parse(text, env={"SF_KEY": "k", "SF_URL": "http://127.0.0.1:9"})
    assert config.providers["sf"].base_url == "http://127.0.0.1:9"


def test_unset_variable_outside_keys_is_an_error_with_its_path() -> None:
    """An unset variable in a non-key field names the field and the variable."""
    text = BASE.replace("https://api.siliconflow.cn", '"${SF_URL}"')
    assert "$.providers.sf.base_url: environment variable SF_URL is not set" in problems(text, {"SF_KEY": "k"})


def test_unknown_key_is_an_error_with_its_path() -> None:
    """An unknown field is reported at its path."""
    text = BASE.replace("{type: local}", "{type: local, colour: red}")
    assert problems(text) == ["$.providers.local: unknown field(s): colour"]


def test_wrong_types_are_not_coerced() -> None:
    """A string timeout and a boolean port are errors, not silently converted."""
    text = BASE.replace("{type: local}", '{type: local, timeout: "5"}') + "server: {port: true}\n"
    found = problems(text)
    assert "$.providers.local.timeout: expected a number, got a string" in found
    assert "$.server.port: expected an integer, got a boolean" in found


def test_model_naming_an_unknown_provider() -> None:
    """A model step naming a provider that does not exist is reported with its index."""
    text = BASE.replace("{provider: local, model: bm25}", "{provider: nope, model: x}")
    assert "$.models.m.providers[1].provider: unknown provider 'nope'" in problems(text)


def test_unknown_provider_type_lists_the_known_ones() -> None:
    """An unknown provider type says which types exist."""
    found = problems(BASE.replace("type: siliconflow", "type: openai"))
    assert len(found) == 1
    assert found[0].startswith("$.providers.sf.type: unknown provider type 'openai' (known: ")
    assert "cohere" in found[0]


def test_remote_provider_needs_a_url() -> None:
    """A remote provider type without base_url or url is an error."""
    text = BASE.replace(" base_url: https://api.siliconflow.cn,", "")
    assert "$.providers.sf: `base_url` (or `url`) is required for type 'siliconflow'" in problems(text, {"SF_KEY": "k"})


def test_invalid_values_are_reported_together() -> None:
    """Every problem is reported at once, not only the first."""
    text = BASE.replace("{type: local}", "{type: local, timeout: 0, max_retries: -1}")
    found = problems(text, {"SF_KEY": "k"})
    assert "$.providers.local.timeout: must be greater than 0" in found
    assert "$.providers.local.max_retries: must be 0 or more" in found


def test_yaml_that_is_not_a_mapping() -> None:
    """A YAML list or broken YAML is a config error, not a crash."""
    assert problems("- a\n- b\n")[0].startswith("$: the config must be a mapping")
    assert problems("providers: {a: [}\n")[0].startswith("$: not valid YAML")


def test_auth_keys_expand_and_unset_ones_are_dropped() -> None:
    """Gateway keys expand from the environment; a key whose variable is unset is ignored with a warning."""
    text = BASE + 'auth:\n  api_keys:\n    - {name: a, key: "${A_KEY}"}\n    - {name: b, key: "${B_KEY}"}\n'
    config = parse(text, env={"A_KEY": "secret-a"})
    assert config.auth is not None
    assert [(k.name, k.key) for k in config.auth.api_keys] == [("a", "secret-a")]
    assert any("B_KEY" in w for w in config.warnings)


def test_no_auth_section_warns() -> None:
    """Without `auth`, the loader warns that every client may call the gateway."""
    config = parse(BASE, env={"SF_KEY": "k"})
    assert config.auth is None
    assert any("auth is not configured" in w for w in config.warnings)


def test_users_cannot_set_the_disabled_marker() -> None:
    """`disabled` is the loader's own field; writing it in YAML is an unknown field."""
    text = BASE.replace("{type: local}", "{type: local, disabled: nope}")
    assert "$.providers.local: unknown field(s): disabled" in problems(text, {"SF_KEY": "k"})


def test_gateway_keys_need_unique_names_and_values() -> None:
    """Two keys with one name (quotas and allow-lists go by name) or one value are errors that never show the key."""
    keys = "    - {name: team, key: ka, models: [m]}\n    - {name: team, key: kb}\n    - {name: other, key: ka}\n"
    found = problems(BASE + "auth:\n  api_keys:\n" + keys, {"SF_KEY": "k"})
    assert found == [
        "$.auth.api_keys: keys 'team' and 'other' are the same key",
        "$.auth.api_keys: 2 keys are named 'team'; names must be unique",
    ]


def test_keys_are_trimmed_and_must_fit_in_a_header() -> None:
    """A key's surrounding whitespace (a Secret file's newline) is dropped; a line break inside it is an error."""
    text = BASE + 'auth:\n  api_keys:\n    - {name: a, key: "${A_KEY}"}\n  admin_key: "${ADMIN_KEY}"\n'
    config = parse(text, env={"SF_KEY": "sk-1\n", "A_KEY": " gk-1\r\n", "ADMIN_KEY": "adm\n"})
    assert config.providers["sf"].api_key == "sk-1"
    assert config.auth is not None
    assert ([k.key for k in config.auth.api_keys], config.auth.admin_key) == (["gk-1"], "adm")
    found = problems(text, {"SF_KEY": "sk-1\nsk-2", "A_KEY": "g\x00k", "ADMIN_KEY": " "})
    assert found == [
        "$.providers.sf.api_key: contains a control character (a line break?), which no HTTP header may carry",
        "$.auth.api_keys[0].key: contains a control character (a line break?), which no HTTP header may carry",
        "$.auth.admin_key: must not be empty; leave it out to turn the admin endpoints off",
    ]


def test_urls_in_errors_hide_credentials() -> None:
    """A rejected URL is shown without its user-info and query; a port out of range is rejected too."""
    text = BASE.replace("https://api.siliconflow.cn", '"ftp://user:${PW}@host/v1?key=${PW}"')
    text += "state: {backend: redis, redis: {url: 'http://:${PW}@cache:6379'}}\n"
    found = problems(text, {"SF_KEY": "k", "PW": "hunter2"})
    assert found == [
        "$.providers.sf.base_url: must be an http:// or https:// URL, got 'ftp://***@host/v1?***'",
        "$.state.redis.url: must be a redis://, rediss:// or unix:// URL, got 'http://***@cache:6379'",
    ]
    bad_port = BASE.replace("https://api.siliconflow.cn", "https://api.siliconflow.cn:99999")
    assert problems(bad_port, {"SF_KEY": "k"}) == [
        "$.providers.sf.base_url: must be an http:// or https:// URL, got 'https://api.siliconflow.cn:99999'"
    ]
