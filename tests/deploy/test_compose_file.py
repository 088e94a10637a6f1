"""docker-compose.yml: valid for Compose, refuses missing secrets, builds only what the repo has.

No Docker engine runs on these machines, so the file is checked offline: Debian's
`docker-compose` (v1.29) parses and interpolates it, and the structural checks below keep it
within the Compose specification that v2 reads too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
SECRETS = {"POSTGRES_PASSWORD": "pg-secret", "REDIS_PASSWORD": "redis-secret",
           "RASA_AUTH_TOKEN": "rasa-secret"}  # fmt: skip
# Top-level keys of the Compose specification (v2 ignores `version`; v1.29 rejects `name`).
SPEC_TOP_LEVEL = {"services", "networks", "volumes", "secrets", "configs"}
LONG_RUNNING = {"postgres", "redis", "actions", "rasa-1", "rasa-2", "api", "rules-worker"}


def _compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is missing: `make setup-test` installs Debian's package"
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run(
        [exe, "-f", str(COMPOSE), *args],
        cwd=REPO, env={**clean, **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    """The file as Compose sees it after interpolation, with every secret set."""
    result = _compose("config", env=SECRETS)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_config_is_valid_with_secrets() -> None:
    result = _compose("config", "-q", env=SECRETS)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_refuses_to_start_without_each_secret(missing: str) -> None:
    env = {k: v for k, v in SECRETS.items() if k != missing}
    result = _compose("config", "-q", env=env)
    assert result.returncode != 0
    assert f"set {missing}" in result.stderr


def test_only_specification_keys_at_top_level() -> None:
    raw = yaml.safe_load(COMPOSE.read_text())
    unknown = {k for k in raw if k not in SPEC_TOP_LEVEL and not k.startswith("x-")}
    assert not unknown, f"not in the Compose specification: {unknown}"


def test_every_build_has_its_dockerfile_in_the_repo(resolved: dict[str, Any]) -> None:
    builds = {name: s["build"] for name, s in resolved["services"].items() if "build" in s}
    assert builds, "no service builds an image"
    for name, build in builds.items():
        context = Path(build["context"])
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), f"{name}: {dockerfile} is not in the repo"
        assert context.resolve() == REPO, f"{name}: build context outside the repo"


def test_our_images_are_all_built_here(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    built = {s["image"] for s in services.values() if "build" in s}
    for name, service in services.items():
        image = service.get("image", "")
        if image.startswith("crm-assistant"):
            assert image in built, f"{name} uses {image}, which no service builds"


def test_topology(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    assert set(services) >= LONG_RUNNING
    for name in LONG_RUNNING:
        assert services[name].get("restart") == "unless-stopped", name
    for name in LONG_RUNNING - {"rules-worker"}:
        assert "healthcheck" in services[name], f"{name} has no health check"
    published = {name for name, s in services.items() if s.get("ports")}
    assert published == {"api"}, "only the API faces the network"
    assert resolved["networks"]["private"].get("internal") is True
    for name in LONG_RUNNING - {"api"}:
        assert set(services[name]["networks"]) == {"private"}, name
    for volume in ("pgdata", "redisdata"):
        assert volume in resolved["volumes"]


def test_rasa_replicas_share_sql_trackers_and_redis_locks(resolved: dict[str, Any]) -> None:
    endpoints = yaml.safe_load((REPO / "bot" / "endpoints.production.yml").read_text())
    assert endpoints["tracker_store"]["type"] == "SQL"
    assert endpoints["tracker_store"]["dialect"] == "postgresql"
    assert endpoints["lock_store"]["type"] == "crm_lock_store.ReplicaSafeRedisLockStore"
    assert (REPO / "bot" / "crm_lock_store.py").is_file()  # copied into the Rasa image with bot/
    rasa = [s for n, s in resolved["services"].items() if n.startswith("rasa-")]
    assert len(rasa) == 2
    for service in rasa:
        assert service["environment"]["RASA_AUTH_TOKEN"] == SECRETS["RASA_AUTH_TOKEN"]


def test_dockerfiles_copy_only_what_exists() -> None:
    for dockerfile in (REPO / "docker").glob("*.Dockerfile"):
        for line in dockerfile.read_text().splitlines():
            parts = line.split()
            if not parts or parts[0] != "COPY" or parts[1].startswith("--from"):
                continue
            for source in parts[1:-1]:
                if source.startswith("var/"):
                    continue  # build outputs of `make model`, documented in docs/deploy.md
                assert (REPO / source).exists(), f"{dockerfile.name}: COPY {source} missing"
