"""The Kubernetes manifests: valid against the official schema offline (strict), and following the checklist."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gateway import config as config_mod
from gateway.config import Config

ROOT = Path(__file__).resolve().parent.parent
KUBE = ROOT / "deploy" / "kubernetes"
#: The oldest version we claim (native sidecars on by default: 1.29; preStop `sleep`: 1.30) and the newest known.
VERSIONS = ("1.30.0", kubernetes_validate.utils.latest_version())
Doc = dict[str, Any]


def documents(path: Path) -> list[Doc]:
    """Every YAML document in one file."""
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


MANIFESTS = sorted(p for p in KUBE.rglob("*.yaml") if p.name != "kustomization.yaml")
SETUPS = sorted(p.parent for p in KUBE.rglob("kustomization.yaml"))


def setup_docs(setup: Path) -> list[Doc]:
    """The resources a kustomization applies."""
    listed = yaml.safe_load((setup / "kustomization.yaml").read_text())["resources"]
    return [d for name in listed for d in documents(setup / name)]


def pod_templates(docs: list[Doc]) -> Iterator[Doc]:
    """The pod templates of every Deployment."""
    return (d["spec"]["template"] for d in docs if d["kind"] == "Deployment")


def containers(pod: Doc) -> list[Doc]:
    """Every container of a pod, init containers (and so native sidecars) included."""
    spec = pod["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def is_gateway(container: Doc) -> bool:
    """Whether a container runs the gateway image."""
    return bool(re.match(r"^([\w.-]+/)*rerank-gateway:", container["image"]))


def probe_path(probe: Doc) -> str:
    """The path an HTTP or exec probe checks."""
    if "httpGet" in probe:
        return str(probe["httpGet"]["path"])
    [url] = re.findall(r"http://127\.0\.0\.1:\d+(/\w+)", " ".join(probe["exec"]["command"]))
    return str(url)


def gateway_config(setup: Path, container: Doc, pod: Doc) -> Config:
    """The gateway config the container reads: the ConfigMap mounted where RERANK_GATEWAY_CONFIG points."""
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    config_path = Path(env["RERANK_GATEWAY_CONFIG"])
    [mount] = [m for m in container["volumeMounts"] if Path(m["mountPath"]) == config_path.parent]
    assert "subPath" not in mount, "a subPath mount never sees ConfigMap updates, so reload would not work"
    [volume] = [v for v in pod["spec"]["volumes"] if v["name"] == mount["name"]]
    name = volume["configMap"]["name"]
    [cm] = [d for d in setup_docs(setup) if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name]
    return config_mod.parse(cm["data"][config_path.name], env={})


def test_there_are_manifests_for_both_setups() -> None:
    """The cluster and the sidecar setups exist, each with a kustomization listing files that exist."""
    assert {s.name for s in SETUPS} == {"cluster", "sidecar"}
    for setup in SETUPS:
        listed = yaml.safe_load((setup / "kustomization.yaml").read_text())["resources"]
        unlisted = {p.name for p in setup.glob("*.yaml")} - set(listed) - {"kustomization.yaml"}
        assert all((setup / name).is_file() for name in listed)
        assert all(".example." in name for name in unlisted), unlisted


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: str(p.relative_to(KUBE)))
def test_manifest_validates_strictly(path: Path, version: str) -> None:
    """Every manifest validates offline against the Kubernetes schema in strict mode (no unknown fields)."""
    for doc in documents(path):
        kubernetes_validate.validate(doc, version, strict=True)


def test_strict_validation_catches_a_typo() -> None:
    """The validator in strict mode refuses a misspelt field, so the test above can fail."""
    [doc] = documents(KUBE / "cluster" / "service.yaml")
    doc["spec"]["prots"] = doc["spec"].pop("ports")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, VERSIONS[0], strict=True)


@pytest.mark.parametrize("setup", SETUPS, ids=lambda p: p.name)
def test_restricted_security_and_resources(setup: Path) -> None:
    """Every container: non-root, read-only root, no capabilities, no escalation, RuntimeDefault seccomp, bounded."""
    pods = list(pod_templates(setup_docs(setup)))
    assert pods
    for pod in pods:
        spec = pod["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        for c in containers(pod):
            ctx = c["securityContext"]
            assert ctx["allowPrivilegeEscalation"] is False, c["name"]
            assert ctx["readOnlyRootFilesystem"] is True, c["name"]
            assert ctx["capabilities"] == {"drop": ["ALL"]}, c["name"]
            assert ctx.get("runAsNonRoot", True) is True, c["name"]
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]), c["name"]
            assert {"cpu", "memory"} <= set(c["resources"]["limits"]), c["name"]
            assert not c["image"].endswith(":latest")
            assert ":" in c["image"].rsplit("/", 1)[-1], "images carry a tag"


@pytest.mark.parametrize("setup", SETUPS, ids=lambda p: p.name)
def test_gateway_probes_config_and_drain_agree(setup: Path) -> None:
    """The gateway's probes, port, config mount and grace period match its config's drain settings."""
    for pod in pod_templates(setup_docs(setup)):
        for c in filter(is_gateway, containers(pod)):
            config = gateway_config(setup, c, pod)
            assert probe_path(c["livenessProbe"]) == "/healthz"
            assert probe_path(c.get("readinessProbe") or c["startupProbe"]) == "/readyz"
            args = c["args"]
            assert args[args.index("--port") + 1] == str(config.server.port)
            assert args[args.index("--host") + 1] == config.server.host
            for port in c.get("ports", []):
                assert port["containerPort"] == config.server.port
            pre_stop = c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
            shutdown = pre_stop + config.server.pre_stop_delay + config.server.drain_timeout
            assert shutdown < pod["spec"]["terminationGracePeriodSeconds"]
            # A request may run as long as its deadline: it must fit in the drain.
            deadlines = [config.request_timeout, *(m.timeout for m in config.models.values() if m.timeout)]
            assert max(deadlines) <= config.server.drain_timeout


def test_cluster_objects_point_at_each_other() -> None:
    """The Service, HPA and PDB select the Deployment's pods; the HPA alone sets the replica count."""
    docs = {d["kind"]: d for d in setup_docs(KUBE / "cluster")}
    deployment = docs["Deployment"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert "replicas" not in deployment["spec"]
    assert docs["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert docs["HorizontalPodAutoscaler"]["spec"]["minReplicas"] >= 2
    for kind in ("PodDisruptionBudget",):
        assert docs[kind]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert docs["Service"]["spec"]["selector"].items() <= labels.items()
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    port_names = {p["name"] for p in container["ports"]}
    assert {p["targetPort"] for p in docs["Service"]["spec"]["ports"]} <= port_names


def test_provider_keys_come_from_the_secret() -> None:
    """Provider keys reach the gateway from the Secret, which provides every key the config refers to."""
    [secret] = documents(KUBE / "cluster" / "provider-keys.example.yaml")
    [deployment] = [d for d in setup_docs(KUBE / "cluster") if d["kind"] == "Deployment"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert {"secretRef": {"name": secret["metadata"]["name"], "optional": True}} in container["envFrom"]
    [cm] = [d for d in setup_docs(KUBE / "cluster") if d["kind"] == "ConfigMap"]
    wanted = set(re.findall(r"\$\{(\w+)\}", cm["data"]["config.yaml"]))
    assert wanted
    assert wanted <= set(secret["stringData"])


def test_sidecar_is_native_and_called_on_localhost() -> None:
    """The gateway runs as an init container with restartPolicy Always; the app calls it on 127.0.0.1."""
    [deployment] = [d for d in setup_docs(KUBE / "sidecar") if d["kind"] == "Deployment"]
    spec = deployment["spec"]["template"]["spec"]
    [sidecar] = spec["initContainers"]
    assert is_gateway(sidecar)
    assert sidecar["restartPolicy"] == "Always"
    assert "startupProbe" in sidecar, "the app starts only once the gateway is ready"
    config = gateway_config(KUBE / "sidecar", sidecar, deployment["spec"]["template"])
    apps = [c for c in spec["containers"] if not is_gateway(c)]
    assert apps
    urls = [e["value"] for c in apps for e in c.get("env", []) if str(e.get("value", "")).startswith("http")]
    assert urls
    assert all(u.startswith(f"http://127.0.0.1:{config.server.port}/") for u in urls)
