"""The Slack adapter: Bolt for Python (AsyncApp) behind the FastAPI app, and the outbox
deliverer. See docs/slack.md."""
