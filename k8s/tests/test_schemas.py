"""Every rendered object validates offline: core kinds against the Kubernetes JSON schemas
(kubernetes-validate, strict: unknown fields are errors), custom resources against their
operators' CRD schemas (crd-schemas/)."""

import json
import pathlib

import jsonschema
import kubernetes_validate
import pytest

# The oldest Kubernetes release we support (native sidecars and preStop `sleep` need 1.30+).
KUBERNETES_VERSION = "1.32.0"
CRD_SCHEMAS = pathlib.Path(__file__).resolve().parent / "crd-schemas"
CORE_GROUPS = {"", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io", "storage.k8s.io"}


def group_version(obj: dict) -> tuple[str, str]:
    api = obj["apiVersion"]
    return tuple(api.split("/", 1)) if "/" in api else ("", api)


def crd_schema(obj: dict) -> dict | None:
    group, version = group_version(obj)
    path = CRD_SCHEMAS / group / f"{obj['kind'].lower()}_{version}.json"
    return json.loads(path.read_text()) if path.exists() else None


def name(obj: dict) -> str:
    return f"{obj['kind']}/{obj['metadata'].get('namespace', '-')}/{obj['metadata']['name']}"


def test_core_objects_should_validate_strictly(overlay):
    _, objects = overlay
    errors = []
    for obj in objects:
        if group_version(obj)[0] not in CORE_GROUPS:
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            errors.append(f"{name(obj)}: {e.message} at {'.'.join(map(str, e.path))}")
    assert not errors, "\n".join(errors)


def test_custom_resources_should_validate_against_their_crds(overlay):
    _, objects = overlay
    errors, missing = [], []
    for obj in objects:
        if group_version(obj)[0] in CORE_GROUPS:
            continue
        schema = crd_schema(obj)
        if schema is None:
            missing.append(name(obj))
            continue
        for e in jsonschema.Draft7Validator(schema).iter_errors(obj):
            errors.append(f"{name(obj)}: {e.message} at {'.'.join(map(str, e.absolute_path))}")
    assert not missing, f"no CRD schema in crd-schemas/ for: {missing}"
    assert not errors, "\n".join(errors)


def test_unknown_fields_should_be_refused_by_the_validators():
    # The checks above are only worth something if a typo fails them.
    bad = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "x"}, "automountToken": False}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES_VERSION, strict=True)
    bad_cr = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "x"},
              "spec": {"scaleTargetRef": {"name": "x"}, "minReplicas": 2, "triggers": []}}
    assert list(jsonschema.Draft7Validator(crd_schema(bad_cr)).iter_errors(bad_cr))
