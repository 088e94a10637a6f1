"""Sales-process automation: declarative rules over CRM events, exactly once, auditable.

- `rules.loader.load_rules(path=None) -> RuleSet` reads `config/rules/*.yml` (problems listed
  with file:line, bad rules skipped).
- `rules.engine.process_batch` / `drain` / `run_forever`: the worker.
- `rules.scheduler.emit_time_events`: deal idle, renewal due, ticket SLA due, task overdue.
- `rules.audit.simulate` / `stats`: replay history without side effects; firing statistics.
- `rules.history.automation_history`: the firings on the accounts a person may see, in words
  (the bot's "what did the automations do for X?"); `rules.stalled.stalled_threshold`: the
  idle days the stalled-deal rule uses (the bot's "which of my deals are stalled?").
- Events are written by the store (`crm_store.queries.events`).
"""
