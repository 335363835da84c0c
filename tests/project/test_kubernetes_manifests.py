"""deploy/kubernetes/: strict schema validation (kubernetes-validate, offline), yamllint, and the
properties the deployment docs promise (probes, limits, non-root, read-only root, admin port,
PostgreSQL when there is more than one pod, an issuers file the service accepts)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig

from app.security.issuers import load_issuers_file
from app.storage import open_database

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
# The oldest Kubernetes release we claim (autoscaling/v2, policy/v1 are GA long before) and
# the newest whose schemas the package bundles.
VERSIONS = ["1.29", kubernetes_validate.utils.latest_version()]


def manifest_files() -> list[Path]:
    return sorted(MANIFESTS.glob("*.yaml"))


def documents() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in manifest_files():
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                yield path, document


def find(kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for _, d in documents() if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def container() -> dict[str, Any]:
    (only,) = find("Deployment")["spec"]["template"]["spec"]["containers"]
    return only


def env() -> dict[str, Any]:
    return {item["name"]: item for item in container()["env"]}


def port_number(name: str) -> int:
    return next(p["containerPort"] for p in container()["ports"] if p["name"] == name)


def test_there_are_manifests() -> None:
    kinds = {d["kind"] for _, d in documents()}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap", "Secret"} <= kinds


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_validates_strictly(version: str) -> None:
    """Strict schemas: an unknown field is an error; an unknown kind/apiVersion raises
    SchemaNotFoundError here (the command line only warns about it)."""
    for _path, document in documents():
        kubernetes_validate.validate(document, version, strict=True)  # raises on any problem


def test_strict_validation_really_refuses_typos_and_unknown_kinds() -> None:
    deployment = copy.deepcopy(find("Deployment"))
    deployment["spec"]["replica"] = 2  # not a field
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[-1], strict=True)
    hpa = {**copy.deepcopy(find("HorizontalPodAutoscaler")), "apiVersion": "autoscaling/v9"}
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(hpa, VERSIONS[-1], strict=True)


def test_yamllint_is_clean() -> None:
    config = YamlLintConfig(file=str(ROOT / ".yamllint.yaml"))
    problems = [
        f"{path.name}:{problem.line}: {problem.desc}"
        for path in manifest_files()
        for problem in linter.run(path.read_text(), config, str(path))
    ]
    assert problems == []


def test_probes_resources_and_replicas() -> None:
    deployment = find("Deployment")
    assert deployment["spec"]["replicas"] >= 2
    main = container()
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert port_number("http") == int(env()["PORT"]["value"])
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(main["resources"][kind]), kind


def test_the_pod_runs_locked_down() -> None:
    pod = find("Deployment")["spec"]["template"]["spec"]
    main = container()
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    security = main["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    tmp = next(m for m in main["volumeMounts"] if m["mountPath"] == "/tmp")
    volume = next(v for v in pod["volumes"] if v["name"] == tmp["name"])
    assert "emptyDir" in volume
    assert pod["automountServiceAccountToken"] is False


def test_metrics_are_scraped_from_the_admin_port() -> None:
    annotations = find("Deployment")["spec"]["template"]["metadata"]["annotations"]
    admin = port_number("admin")
    assert int(env()["CDS_ADMIN_PORT"]["value"]) == admin != port_number("http")
    assert annotations["prometheus.io/port"] == str(admin) and annotations["prometheus.io/path"] == "/metrics"
    public = find("Service", "ldn-cds")
    assert [p["targetPort"] for p in public["spec"]["ports"]] == ["http"], (
        "the public Service never exposes the admin port"
    )


def test_several_pods_share_one_postgresql_database() -> None:
    replicas = max(find("Deployment")["spec"]["replicas"], find("HorizontalPodAutoscaler")["spec"]["maxReplicas"])
    assert replicas >= 2
    reference = env()["CDS_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    secret = find("Secret", reference["name"])
    url = secret["stringData"][reference["key"]]
    assert url.startswith("postgresql://"), "SQLite is per pod: more than one pod needs PostgreSQL"
    open_database(url)  # the service accepts the URL (nothing is connected)


def test_the_issuers_file_is_mounted_where_the_service_reads_it_and_loads(tmp_path: Path) -> None:
    pod = find("Deployment")["spec"]["template"]["spec"]
    path = Path(env()["CDS_TRUSTED_ISSUERS_FILE"]["value"])
    mount = next(m for m in container()["volumeMounts"] if m["mountPath"] == str(path.parent))
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    config_map = find("ConfigMap", volume["configMap"]["name"])
    text = config_map["data"][path.name]
    copy_of_file = tmp_path / path.name
    copy_of_file.write_text(text)
    (issuer,) = load_issuers_file(copy_of_file)  # the service's own parser
    assert issuer.fhir_servers


def test_the_autoscaler_and_budget_target_these_pods() -> None:
    labels = find("Deployment")["spec"]["template"]["metadata"]["labels"]
    hpa = find("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2" and hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ldn-cds"}
    pdb = find("PodDisruptionBudget")
    assert pdb["apiVersion"] == "policy/v1"
    for selector in (pdb["spec"]["selector"]["matchLabels"], find("Service", "ldn-cds")["spec"]["selector"]):
        assert selector.items() <= labels.items()
