"""The `crm` command: one Typer app; each area registers its own sub-app here."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="CRM assistant administration.")


def _register() -> None:
    """Attach sub-commands; each lives in its own module so the CLI stays thin."""
    from crm_cli import backup, cluster_cmd, db, demo, gdpr, imports, users
    from crm_cli.kb import app as kb_app
    from crm_cli.nlu import app as nlu_app
    from crm_cli.predict import app as predict_app
    from crm_cli.retention import app as retention_app
    from crm_cli.retrieval import app as retrieval_app
    from crm_cli.rules import app as rules_app
    from crm_cli.slack import app as slack_app

    app.add_typer(db.app, name="db")
    app.add_typer(demo.app, name="demo")
    app.add_typer(imports.app, name="import")
    app.add_typer(users.app, name="users")
    app.add_typer(predict_app, name="predict")
    app.add_typer(kb_app, name="kb")
    app.add_typer(retrieval_app, name="retrieval")
    app.add_typer(nlu_app, name="nlu")
    app.add_typer(rules_app, name="rules")
    app.add_typer(retention_app, name="retention")
    app.add_typer(gdpr.app, name="gdpr")
    app.add_typer(cluster_cmd.app, name="cluster")
    app.command("backup")(backup.backup)
    app.command("restore")(backup.restore)
    app.add_typer(slack_app, name="slack")


_register()

if __name__ == "__main__":
    app()
