"""The deployment artifacts (issue 17), validated offline: the Kubernetes manifests
against the API schemas of the Kubernetes release we target (kubernetes-validate), the
compose file against the Compose specification's JSON schema, the Dockerfile's shape,
and the cluster script's syntax."""

import json
import re
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30.0"


def _documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_kubernetes_manifests_are_valid(path):
    for doc in _documents(path):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest_but_the_example_secret():
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in MANIFESTS} - {"secret.example.yaml"}


def _kinds() -> dict[tuple[str, str], dict]:
    return {(d["kind"], d["metadata"]["name"]): d for p in MANIFESTS for d in _documents(p)}


def test_kubernetes_shape_web_workers_one_beat_probes_budgets_autoscalers():
    kinds = _kinds()
    web = kinds[("Deployment", "xinyou-web")]["spec"]
    container = web["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    # a degraded pod (Redis alone away) still serves: it stays ready
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz?accept=degraded"
    assert kinds[("Deployment", "xinyou-beat")]["spec"]["replicas"] == 1
    assert kinds[("Deployment", "xinyou-beat")]["spec"]["strategy"]["type"] == "Recreate"
    assert kinds[("Deployment", "xinyou-worker")]["spec"]["replicas"] >= 2
    for name in ("xinyou-web", "xinyou-worker"):
        assert ("PodDisruptionBudget", name) in kinds
        hpa = kinds[("HorizontalPodAutoscaler", name)]["spec"]
        assert hpa["metrics"][0]["resource"]["name"] == "cpu"
    assert ("Job", "xinyou-migrate") in kinds
    for (kind, _name), doc in kinds.items():
        if kind in ("Deployment", "Job"):
            pod = doc["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True
            for c in pod["containers"]:
                refs = {r.get("secretRef", {}).get("name") for r in c.get("envFrom", [])}
                assert "xinyou-secrets" in refs  # keys come from a Secret, never the image


def test_compose_file_follows_the_compose_specification():
    schema = json.loads((ROOT / "deploy/compose/compose-spec.schema.json").read_text())
    doc = yaml.safe_load((ROOT / "compose.yaml").read_text())
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(doc))
    assert not errors, [e.message for e in errors]
    services = doc["services"]
    assert services["web"]["deploy"]["replicas"] == 3
    assert services["worker"]["deploy"]["replicas"] == 2
    assert "replicas" not in services["beat"].get("deploy", {})
    assert "pgbouncer:6432" in services["web"]["environment"]["DATABASE_URL"]
    assert services["web"]["environment"]["DATABASE_POOLER"] == "transaction"
    for path in re.findall(r"\./(deploy/compose/[\w.-]+)", (ROOT / "compose.yaml").read_text()):
        assert (ROOT / path).exists(), path


def test_dockerfile_is_multi_stage_non_root_and_without_compilers_in_the_final_image():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    assert len(stages) >= 2
    final = stages[-1]
    assert re.search(r"^USER (?!root|0\b)\S+", final, re.M)
    assert "build-essential" not in final and "gcc" not in final
    assert "COPY --from=build /opt/venv /opt/venv" in final


def test_cluster_script_parses():
    subprocess.run(["bash", "-n", str(ROOT / "scripts/cluster.sh")], check=True)
