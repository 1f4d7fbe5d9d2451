"""docker-compose.yaml cannot be started here (no Docker engine): its structure is checked instead.
The services of the production stack, their commands and health checks, the shared reports volume,
and secrets that come only from an uncommitted .env."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server", "airflow-scheduler": "scheduler", "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer", "airflow-worker": "celery worker",
}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text(encoding="utf-8"))


def test_the_stack_has_every_service(compose):
    assert set(compose["services"]) == {"postgres", "redis", "airflow-init", *AIRFLOW_SERVICES}


@pytest.mark.parametrize("name, command", sorted(AIRFLOW_SERVICES.items()))
def test_each_airflow_service_runs_our_image_on_celery_with_a_health_check(compose, name, command):
    service = compose["services"][name]
    assert service["build"] == "." and service["command"] == command
    environment = service["environment"]
    assert environment["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert environment["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379")
    assert environment["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg://")
    assert environment["PLR_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert environment["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"] == "post_loan_review_celery.CELERY_CONFIG"
    assert environment["PYTHONPATH"] == "/opt/post-loan-review/include/airflow_config"  # baked in with include/
    assert (ROOT / "include" / "airflow_config" / "post_loan_review_celery.py").is_file()
    assert service["healthcheck"]["test"], name
    assert service["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    assert service["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_init_migrates_airflow_and_creates_the_warehouse(compose):
    assert compose["services"]["airflow-init"]["command"] == 'bash -c "airflow db migrate && plr init-db"'
    for name in ("postgres", "redis"):
        assert compose["services"][name]["healthcheck"]["test"]


def test_workers_and_the_api_server_share_the_reports_volume_and_the_dags(compose):
    def mounts(name):
        return {volume.split(":")[1]: volume.split(":")[0] for volume in compose["services"][name]["volumes"]}

    for name in ("airflow-worker", "airflow-apiserver"):
        assert mounts(name)["/opt/post-loan-review/reports"] == "reports"
        assert mounts(name)["/opt/post-loan-review/dags"] == "./dags"
        assert compose["services"][name]["environment"]["PLR_REPORT_DIR"] == "/opt/post-loan-review/reports"
    # the report viewer plugin runs in the API server: it needs the plugins folder too
    assert mounts("airflow-apiserver")["/opt/post-loan-review/plugins"] == "./plugins"
    assert compose["services"]["airflow-apiserver"]["environment"]["AIRFLOW__CORE__PLUGINS_FOLDER"] == \
        "/opt/post-loan-review/plugins"
    assert "reports" in compose["volumes"]


def test_secrets_come_only_from_an_uncommitted_env_file(compose):
    text = (ROOT / "docker-compose.yaml").read_text(encoding="utf-8")
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", text))  # $${...} is the container's own
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert used <= set(re.findall(r"^([A-Z_]+)=", example, flags=re.M))  # every variable documented
    environment = compose["services"]["airflow-worker"]["environment"]
    assert environment["AIRFLOW__CORE__FERNET_KEY"].startswith("${AIRFLOW_FERNET_KEY:?")
    assert environment["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW_JWT_SECRET:?")
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert not re.search(r"password\s*[:=]\s*['\"]?[a-z0-9]{4,}", text, flags=re.I)  # no literal password


def test_the_image_installs_the_lock_and_bakes_in_the_package():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM apache/airflow:3\.3\.\d+-python3\.11", dockerfile, flags=re.M)
    assert "-r /opt/post-loan-review/requirements.lock" in dockerfile
    for folder in ("include", "sql"):
        assert f"COPY --chown=airflow:root {folder} " in dockerfile
