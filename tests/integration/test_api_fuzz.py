"""Schemathesis against the running API's own OpenAPI schema: no request it can generate,
valid or not, gets a 5xx. Bounded: a fixed number of examples per operation, on SQLite and
PostgreSQL (`running`), with Rasa and the action server up, so chat turns are real.

Slack's routes are left out: every unsigned request there is a 401 (tests/channels/
test_channels_security.py), and the fuzzer cannot sign.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from crm_store.demo import DEMO_CREDENTIALS

pytestmark = pytest.mark.integration
EXAMPLES_PER_OPERATION = 25


def _operations(api_url: str) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_url(f"{api_url}/openapi.json").exclude(path_regex="^/slack/")
    return [result.ok() for result in schema.get_all_operations()]


def test_no_server_errors(running) -> None:
    """Each operation: generated cases (Hypothesis), sent with a rep's token and without."""
    operations = _operations(running.api_url)
    assert len(operations) >= 8, [op.label for op in operations]
    for operation in operations:
        _fuzz(operation)


def _fuzz(operation: schemathesis.APIOperation) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), database=None)  # fmt: skip
    def no_5xx(case: schemathesis.Case) -> None:
        for headers in ({"Authorization": f"Bearer {DEMO_CREDENTIALS.rep_token}"}, {}):
            response = case.call(headers=headers, timeout=60)
            assert response.status_code < 500, (
                operation.label, case.formatted_path, response.status_code,
                response.text[:300],
            )  # fmt: skip

    no_5xx()
