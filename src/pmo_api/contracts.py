"""The published contracts, generated from the code: OpenAPI (REST) and the GraphQL SDL.

``pmo-api export-schemas`` writes them to ``openapi/``; ``tests/test_contracts.py``
fails when the committed files drift from what the code generates.
"""

from __future__ import annotations

import importlib
import json

from pmo_api.settings import Settings

OPENAPI_FILE = "openapi.json"
GRAPHQL_FILE = "schema.graphql"
GRAPHQL_SCHEMA_MODULE = "pmo_api.api.graphql.schema"


class ContractUnavailable(Exception):
    """A contract cannot be generated (for example, its code does not exist yet)."""


def contract_settings() -> Settings:
    """Every setting at its default, passed explicitly so the environment is ignored:
    the contract must not depend on where it was generated."""
    defaults = {
        name: field.get_default(call_default_factory=True)
        for name, field in Settings.model_fields.items()
    }
    return Settings(**defaults)


def openapi_document() -> str:
    # Imported here: building the app pulls in both doors, which the CLI's other
    # commands do not need. Creating the app does not connect to the database.
    from pmo_api.app import create_app

    document = create_app(contract_settings()).openapi()
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def graphql_sdl() -> str:
    try:
        module = importlib.import_module(GRAPHQL_SCHEMA_MODULE)
    except ModuleNotFoundError as error:
        if error.name != GRAPHQL_SCHEMA_MODULE:
            raise
        raise ContractUnavailable(
            f"the GraphQL schema ({GRAPHQL_SCHEMA_MODULE}:schema) does not exist yet"
        ) from None
    schema = getattr(module, "schema", None)
    if schema is None:
        raise ContractUnavailable(f"{GRAPHQL_SCHEMA_MODULE} defines no `schema`")
    return str(schema).rstrip("\n") + "\n"


def render_contracts() -> dict[str, str]:
    """File name -> exact file content, for every published contract."""
    return {OPENAPI_FILE: openapi_document(), GRAPHQL_FILE: graphql_sdl()}
