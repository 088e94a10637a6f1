"""`crm demo run`: everything a first-time user needs, in one command.

Seeds the embedded SQLite CRM (once), trains the Rasa model when `bot/` changed, starts Rasa,
the action server and the API on loopback, prints where to go and how to sign in, and stops
them all on Ctrl-C.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from crm_cli import rasa_model, stack
from crm_store import db, migrate
from crm_store.demo import DEMO_CREDENTIALS, seed
from retrieval.config import RetrievalSettings

console = Console(stderr=True)
KB_DIR = rasa_model.REPO_ROOT / "kb"  # the demo company's help-centre articles


def _port(preferred: int) -> int:
    """The conventional port when it is free, else any free one (a second demo, say)."""
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            return stack.free_port()


def prepare_database(url: str, retrieval: RetrievalSettings | None = None) -> None:
    """Migrate, seed the demo company unless it is already there, then score its churn.

    The churn step trains from the Telco file only when the registry has no model for that
    exact file, so a rep asking "churn risk for Acme Corp" gets a real probability. The
    demo help centre (kb/) is indexed when its files or the database changed.
    """
    migrate.upgrade(url)
    with db.session_scope(url) as session:
        seed(session)
    _prepare_predictions(url)
    _prepare_knowledge(url, retrieval)


def _prepare_knowledge(url: str, retrieval: RetrievalSettings | None) -> None:
    """Index kb/ for the bot's cited answers; skipped (cached by content hash) if unchanged."""
    from retrieval.sync import ensure_indexed  # loads the embedder only when needed

    report = ensure_indexed([KB_DIR], url, retrieval)
    if report is None:
        console.print("Knowledge base unchanged since the last run.")
        return
    for problem in report.errors:
        console.print(f"[yellow]Knowledge base: skipped {problem}[/yellow]")
    console.print(
        f"Knowledge base indexed: {report.chunks_indexed} chunk(s) from "
        f"{report.added_sources + report.replaced_sources} changed article(s)."
    )


def _prepare_predictions(url: str) -> None:
    """Churn scores, segments and bought-together rules for the demo accounts; without the
    Telco file the demo still runs."""
    from predict.demo import prepare_demo_predictions  # pandas and scikit-learn: import late
    from predict.errors import PredictError

    try:
        with db.session_scope(url) as session:
            done = prepare_demo_predictions(session)
    except PredictError as error:
        console.print(f"[yellow]No churn predictions in the demo: {error}[/yellow]")
        return
    action = "trained" if done.trained else "reused"
    console.print(f"Churn model {done.model_version} {action}; {done.scored} account(s) scored.")
    if done.segments_version:
        console.print(f"Segments {done.segments_version}; {done.segmented} account(s) segmented.")
    if done.recommendations_version:
        console.print(f"Bought-together rules {done.recommendations_version} (demo orders).")


def run_demo(log_dir: Path | None = None) -> None:
    """Prepare data and models, start every process, wait for Ctrl-C."""
    url = db.database_url()
    log_dir = log_dir or rasa_model.REPO_ROOT / "var" / "logs"
    with console.status("Preparing the CRM database (migrations, demo data)…"):
        prepare_database(url)
    model = rasa_model.ensure_model()
    rasa_port, action_port, api_port = _port(5005), _port(5055), _port(8000)
    rasa_url, action_url = f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{action_port}"
    processes = [
        stack.action_server(action_port, url, log_dir),
        stack.rasa_server(model, rasa_port, action_url, log_dir),
        stack.api_server(
            api_port, rasa_url=rasa_url, action_url=action_url, database_url=url, log_dir=log_dir
        ),
    ]
    with console.status("Starting the action server, Rasa (about a minute) and the API…"):
        stack.start_all(processes)
    _print_welcome(f"http://127.0.0.1:{api_port}", rasa_url, action_url, log_dir)
    stack.supervise(processes, console.print)


def _print_welcome(api_url: str, rasa_url: str, action_url: str, log_dir: Path) -> None:
    creds = DEMO_CREDENTIALS
    table = Table(title="CRM assistant demo is running", show_header=False)
    table.add_row("Customer chat", f"{api_url}/")
    table.add_row("Rep console", f"{api_url}/rep")
    table.add_row("API docs", f"{api_url}/docs")
    table.add_row("Health", f"{api_url}/v1/health")
    table.add_row("Rasa / actions", f"{rasa_url}  {action_url}  (loopback only)")
    table.add_row("Logs", str(log_dir))
    table.add_section()
    table.add_row("Rep token", f"{creds.rep_token}  ({creds.rep_email})")
    table.add_row("Manager token", f"{creds.manager_token}  ({creds.manager_email})")
    table.add_row("Customer", f"{creds.customer_email}, order {creds.customer_order}")
    Console().print(table)
    console.print("Press Ctrl-C to stop everything.")
