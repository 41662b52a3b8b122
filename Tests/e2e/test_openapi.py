"""The OpenAPI document validates as OpenAPI 3.1 (openapi-spec-validator)."""
import json
import os
import subprocess
from pathlib import Path

import pytest

openapi_spec_validator = pytest.importorskip("openapi_spec_validator")


def binary() -> str:
    configured = os.environ.get("LATCHKEY_BIN")
    if configured:
        return configured
    return str(Path(__file__).resolve().parents[2] / ".build" / "debug" / "latchkey")


def test_the_document_validates_and_covers_the_credential_api():
    if not Path(binary()).exists():
        pytest.skip("the latchkey binary is not built")
    output = subprocess.run([binary(), "openapi"], check=True, capture_output=True, text=True, timeout=60).stdout
    document = json.loads(output)
    openapi_spec_validator.validate(document)
    assert document["openapi"] == "3.1.0"
    paths = document["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/credentials"])
    assert "post" in paths["/api/v1/credentials/{id}/reveal"]
    assert "bearerAuth" in document["components"]["securitySchemes"]
