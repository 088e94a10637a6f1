"""`crm users link-slack --slack-user`: the command docs/slack.md tells admins to run."""

from __future__ import annotations

from typer.testing import CliRunner

from crm_cli.main import app as crm
from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS
from crm_store.queries.users import get_user_by_slack_id


def test_link_slack_by_member_id(seeded_db_url: str) -> None:
    args = ["users", "link-slack", "--email", DEMO_CREDENTIALS.agent_email,
            "--slack-user", "U0123ABCD", "--database-url", seeded_db_url]  # fmt: skip
    result = CliRunner().invoke(crm, args)
    assert result.exit_code == 0, result.output
    with session_scope(seeded_db_url) as session:
        user = get_user_by_slack_id(session=session, slack_user_id="U0123ABCD")
        assert user is not None and user.email == DEMO_CREDENTIALS.agent_email
