"""The pmo-api command, run as a person runs it: a subprocess on a temporary SQLite file."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from pmo_api.demo import (
    DEMO_COURSES,
    DEMO_ENROLLMENTS,
    DEMO_LESSONS,
    DEMO_METHODOLOGIES,
    DEMO_POLICIES,
    DEMO_TEMPLATES,
    PEOPLE,
    PORTFOLIOS,
    PROJECT_NAMES,
    SHOWCASE,
)
from tests.conftest import create_database

COMMAND_TIMEOUT = 60


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The caller's environment without any PMO_* setting, on a fresh SQLite file."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PMO_")}
    return {**clean, "PMO_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}


def pmo_api(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pmo_api.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def table_counts(env: dict[str, str]) -> dict[str, int]:
    path = env["PMO_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        tables = (
            "people",
            "portfolios",
            "projects",
            "policies",
            "methodologies",
            "templates",
            "milestones",
            "lessons",
            "audits",
            "findings",
            "courses",
            "enrollments",
            "certifications",
            "audit_events",
            "api_keys",
        )
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def test_create_api_key_prints_a_working_key(env: dict[str, str], tmp_path: Path) -> None:
    result = pmo_api("create-api-key", "--role", "admin", "--name", "ops laptop", env=env)
    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip()
    assert secret.startswith("pmo_") and "\n" not in secret
    assert "admin" in result.stderr and secret not in result.stderr

    with running_server(env, tmp_path) as base_url:
        keys = httpx.get(
            f"{base_url}/api/v1/api-keys", headers={"Authorization": f"Bearer {secret}"}
        )
        assert keys.status_code == 200, keys.text
        assert [k["name"] for k in keys.json()["items"]] == ["ops laptop"]
        assert "secret" not in keys.json()["items"][0]
        wrong = httpx.get(f"{base_url}/api/v1/api-keys", headers={"Authorization": "Bearer pmo_x"})
        assert wrong.status_code == 401
    assert table_counts(env)["audit_events"] == 1  # the creation is on the audit trail


def test_create_api_key_refuses_a_manager_without_a_person(env: dict[str, str]) -> None:
    result = pmo_api("create-api-key", "--role", "manager", "--name", "pm", env=env)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "person_id" in result.stderr.strip().splitlines()[-1]
    assert table_counts(env)["api_keys"] == 0


def test_seed_demo_builds_the_organisation_once(env: dict[str, str]) -> None:
    first = pmo_api("seed-demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "[5/9] projects" in first.stderr  # progress, step by step
    showcase = next(t for t in DEMO_TEMPLATES if t["key"] == SHOWCASE["template"])
    made_from_template = sum(
        len(showcase[part]) for part in ("milestones", "risks", "deliverables")
    )
    standards = {
        "policies": len(DEMO_POLICIES),
        "methodologies": len(DEMO_METHODOLOGIES),
        "templates": len(DEMO_TEMPLATES),
    }
    expected = {
        "people": len(PEOPLE),
        "portfolios": len(PORTFOLIOS),
        "projects": len(PROJECT_NAMES) + 1,  # and the one made from a template
        **standards,
        "milestones": len(showcase["milestones"]),
        "lessons": len(DEMO_LESSONS),
        "audits": 2,  # one in progress, one completed
        "courses": len(DEMO_COURSES),
        "enrollments": len(DEMO_ENROLLMENTS),
    }
    counts = table_counts(env)
    assert counts["findings"] >= 1  # the failing rules, raised
    completed = [e for e in DEMO_ENROLLMENTS if e[2] is not None]
    granted = [e for e in completed if e[1] != "Agile delivery foundations"]
    assert counts["certifications"] == len(granted) + 1  # and one held, expiring soon
    assert {k: counts[k] for k in expected} == expected
    assert expected["people"] >= 15 and 30 <= expected["projects"] <= 41
    # Grace Mwangi holds agile at 5: the course's 3 raises nothing.
    skills_raised = len(completed) - 1
    # one event per record (the template's records too), each standard's publication,
    # each audit's start, each finding, and the completed audit's answers and completion
    assert counts["audit_events"] == (
        sum(expected.values())
        - expected["milestones"]
        + made_from_template
        + sum(standards.values())
        + expected["audits"]
        + counts["findings"]
        + 2
        # each enrollment started; each completion, its certification and raised skill;
        # the certification held
        + len(DEMO_ENROLLMENTS)
        + len(completed)
        + counts["certifications"]
        + skills_raised
    )

    second = pmo_api("seed-demo", env=env)
    assert second.returncode == 0, second.stderr
    assert "nothing to create" in second.stdout
    assert table_counts(env) == counts


def test_seed_demo_is_deterministic(env: dict[str, str], tmp_path: Path) -> None:
    other = {**env, "PMO_DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}"}
    for settings in (env, other):
        assert pmo_api("seed-demo", env=settings).returncode == 0
    query = (
        "SELECT key, status, health, methodology, phase, planned_budget, planned_start,"
        " percent_complete FROM projects ORDER BY key"
    )
    rows = []
    for settings in (env, other):
        with sqlite3.connect(settings["PMO_DATABASE_URL"].removeprefix("sqlite:///")) as db:
            rows.append(db.execute(query).fetchall())
    assert rows[0] == rows[1]
    assert len({row[1] for row in rows[0]}) >= 3  # a realistic mix of statuses


@pytest.mark.parametrize(
    ("name", "value"),
    [("PMO_CURRENCY", "dollars"), ("PMO_DATABASE_URL", "mysql://x"), ("PMO_LOG_LEVEL", "loud")],
)
def test_a_bad_setting_stops_serve_with_one_clear_line(
    env: dict[str, str], name: str, value: str
) -> None:
    result = pmo_api("serve", "--port", "1", env={**env, name: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0] and "Traceback" not in result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    def __init__(self, process: subprocess.Popen[str], base_url: str) -> None:
        self.process, self.base_url = process, base_url


def start_server(env: dict[str, str], cwd: Path, *extra: str) -> Server:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "pmo_api.cli", "serve", "--port", str(port), *extra],
        env={"PMO_LOG_LEVEL": "WARNING", **env},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return Server(process, base_url)
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    _, stderr = process.communicate()
    pytest.fail(f"pmo-api serve did not answer /healthz: {stderr}")


def stop_server(server: Server) -> tuple[int, str]:
    server.process.send_signal(signal.SIGTERM)
    try:
        _, stderr = server.process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.communicate()
        pytest.fail("pmo-api serve did not stop within 10 s of SIGTERM")
    return server.process.returncode, stderr


@contextmanager
def running_server(env: dict[str, str], cwd: Path) -> Iterator[str]:
    server = start_server(env, cwd)
    try:
        yield server.base_url
    finally:
        stop_server(server)


def test_serve_answers_health_and_stops_gracefully_on_sigterm(
    env: dict[str, str], tmp_path: Path
) -> None:
    server = start_server(env, tmp_path)
    try:
        assert httpx.get(f"{server.base_url}/healthz").json() == {"status": "ok"}
        ready = httpx.get(f"{server.base_url}/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}
        # SQLite: the schema was brought to head on start.
        assert table_counts(env)["people"] == 0
    finally:
        code, stderr = stop_server(server)
    assert code == 0, stderr


def test_serve_with_two_workers_migrates_once_and_serves(
    env: dict[str, str], tmp_path: Path
) -> None:
    server = start_server({**env, "PMO_LOG_LEVEL": "INFO"}, tmp_path, "--workers", "2")
    try:
        for _ in range(4):
            assert httpx.get(f"{server.base_url}/readyz").status_code == 200
    finally:
        code, stderr = stop_server(server)
    assert code == 0, stderr
    assert stderr.count("migrating sqlite") == 1  # once, by the command, before the workers
    assert "bringing the database schema to head" not in stderr  # no worker repeats it
    assert stderr.count('"pmo-api ready"') == 2, stderr


def test_export_schemas_writes_and_checks_the_contracts(
    env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "contracts"
    # No database is needed: point the URL somewhere that cannot exist.
    offline = {**env, "PMO_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    written = pmo_api("export-schemas", "--out-dir", str(out), env=offline)
    assert written.returncode == 0, written.stderr
    document = (out / "openapi.json").read_text(encoding="utf-8")
    assert document.endswith("}\n") and '"openapi"' in document
    assert "type Query" in (out / "schema.graphql").read_text(encoding="utf-8")

    assert pmo_api("export-schemas", "--check", "--out-dir", str(out), env=offline).returncode == 0
    (out / "schema.graphql").write_text("type Query { stale: Int }\n", encoding="utf-8")
    checked = pmo_api("export-schemas", "--check", "--out-dir", str(out), env=offline)
    assert checked.returncode == 1
    assert "schema.graphql differs" in checked.stderr and "openapi.json" not in checked.stderr
    assert "make schemas" in checked.stderr


@pytest.fixture
def any_env(backend: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The caller's environment without any PMO_* setting, on a fresh database of each
    backend (brought to head by the commands themselves)."""
    url, drop = asyncio.run(create_database(backend, tmp_path))
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PMO_")}
    yield {**clean, "PMO_DATABASE_URL": url, "PMO_AUTO_MIGRATE": "true"}
    if drop is not None:
        asyncio.run(drop())


def any_counts(env: dict[str, str]) -> dict[str, int]:
    """Row counts of the tables the standards commands write, on either database."""
    url = env["PMO_DATABASE_URL"]
    if url.startswith("sqlite"):
        return table_counts({"PMO_DATABASE_URL": "sqlite:///" + url.split(":///", 1)[1]})

    async def count() -> dict[str, int]:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            tables = ("people", "portfolios", "projects", "policies", "audit_events", "api_keys")
            return {t: int(await connection.fetchval(f"SELECT count(*) FROM {t}")) for t in tables}
        finally:
            await connection.close()

    return asyncio.run(count())


def test_standards_as_code_export_apply_and_refuse(any_env: dict[str, str], tmp_path: Path) -> None:
    env = any_env
    seeded = pmo_api("seed-demo", env=env)
    assert seeded.returncode == 0, seeded.stderr
    folder = tmp_path / "standards"
    exported = pmo_api("standards", "export", str(folder), env=env)
    assert exported.returncode == 0, exported.stderr
    files = sorted(p.name for p in (folder / "policies").iterdir())
    assert files == ["DELIVERY.yaml", "FINANCE.yaml", "REPORTING.yaml"]
    assert sorted(p.name for p in (folder / "methodologies").iterdir()) == [
        "AGILE.yaml",
        "STAGE-GATE.yaml",
    ]
    assert sorted(p.name for p in (folder / "templates").iterdir()) == [
        "AGILE-PRODUCT.yaml",
        "IT-PROJECT.yaml",
    ]
    counts = any_counts(env)

    same = pmo_api("standards", "apply", str(folder), env=env)
    assert same.returncode == 0, same.stderr
    assert "nothing differs" in same.stdout and any_counts(env) == counts

    finance = folder / "policies" / "FINANCE.yaml"
    finance.write_text(finance.read_text().replace("max_percent: 10", "max_percent: 12"))
    (folder / "policies" / "AUDIT.yaml").write_text(
        "key: AUDIT\ntitle: Audit trail\nrules:\n- code: SPONSOR\n  title: Name a sponsor\n"
        "  check: {type: field_present, params: {field: sponsor_id}}\n"
    )
    dry = pmo_api("standards", "apply", str(folder), "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "FINANCE.yaml: created (revision 2)" in dry.stdout
    assert "AUDIT.yaml: created (revision 1)" in dry.stdout
    every = len(DEMO_POLICIES) + len(DEMO_METHODOLOGIES) + len(DEMO_TEMPLATES) + 1
    assert f"2 of {every} standard(s) would change" in dry.stdout
    assert any_counts(env) == counts

    applied = pmo_api("standards", "apply", str(folder), "--publish", env=env)
    assert applied.returncode == 0, applied.stderr
    assert "FINANCE.yaml: created, published (revision 2)" in applied.stdout
    assert any_counts(env)["policies"] == counts["policies"] + 2
    again = pmo_api("standards", "apply", str(folder), "--publish", env=env)
    assert "nothing differs" in again.stdout
    counts = any_counts(env)

    (folder / "policies" / "BROKEN.yaml").write_text(
        "key: BROKEN\ntitle: x\nrules:\n- code: R1\n  title: t\n"
        "  check: {type: status_report_fresh, params: {days: ten}}\n"
    )
    (folder / "policies" / "NOT.yaml").write_text("key: [unclosed\n")
    finance.write_text(finance.read_text().replace("max_percent: 12", "max_percent: 15"))
    refused = pmo_api("standards", "apply", str(folder), env=env)
    assert refused.returncode == 1
    assert "BROKEN.yaml: rules.0.check.params.days" in refused.stderr
    assert "NOT.yaml: not YAML" in refused.stderr
    assert "nothing was changed" in refused.stderr
    assert any_counts(env) == counts
