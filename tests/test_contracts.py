"""The committed contracts (openapi/) are exactly what the code generates."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from pmo_api.contracts import GRAPHQL_FILE, OPENAPI_FILE, graphql_sdl, openapi_document
from pmo_api.settings import Settings

CONTRACTS = Path(__file__).resolve().parent.parent / "openapi"
FIX = "run `make schemas` (pmo-api export-schemas) and commit openapi/"


def _assert_current(name: str, generated: str) -> None:
    path = CONTRACTS / name
    if not path.is_file():
        pytest.fail(f"openapi/{name} is missing: {FIX}")
    committed = path.read_text(encoding="utf-8")
    if committed != generated:
        diff = difflib.unified_diff(
            committed.splitlines(), generated.splitlines(), "committed", "generated", lineterm=""
        )
        excerpt = "\n".join(list(diff)[:40])
        pytest.fail(f"openapi/{name} differs from the code: {FIX}\n{excerpt}")


def test_openapi_document_is_current() -> None:
    _assert_current(OPENAPI_FILE, openapi_document())


def test_graphql_schema_is_current() -> None:
    _assert_current(GRAPHQL_FILE, graphql_sdl())


def test_the_contract_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated anywhere, the contract is the same: settings come from defaults only."""
    before = openapi_document()
    monkeypatch.setenv("PMO_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("PMO_CURRENCY", "EUR")
    assert openapi_document() == before


def test_the_readme_documents_every_setting() -> None:
    readme = (CONTRACTS.parent / "README.md").read_text(encoding="utf-8")
    missing = [
        f"PMO_{name.upper()}"
        for name in Settings.model_fields
        if f"`PMO_{name.upper()}`" not in readme
    ]
    assert not missing, f"README.md's Settings table lacks {', '.join(missing)}"
