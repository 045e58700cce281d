"""Renders each overlay once per test session (`kubectl kustomize`, or $KUBECTL)."""

import os
import pathlib
import subprocess

import pytest
import yaml

K8S = pathlib.Path(__file__).resolve().parent.parent
REPO = K8S.parent
OVERLAYS = ["local", "production"]


def render(overlay: str) -> list[dict]:
    kubectl = os.environ.get("KUBECTL", "kubectl")
    out = subprocess.run(
        [kubectl, "kustomize", str(K8S / "overlays" / overlay)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


@pytest.fixture(scope="session", params=OVERLAYS)
def overlay(request) -> tuple[str, list[dict]]:
    return request.param, render(request.param)


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict]]:
    return {name: render(name) for name in OVERLAYS}
