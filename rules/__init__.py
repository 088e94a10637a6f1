"""Sales-process automation: declarative rules over CRM events, exactly once, auditable.

- `rules.loader.load_rules(path=None) -> RuleSet` reads `config/rules/*.yml` (problems listed
  with file:line, bad rules skipped).
- `rules.engine.process_batch` / `drain` / `run_forever`: the worker.
- `rules.scheduler.emit_time_events`: deal idle, renewal due, ticket SLA due, task overdue.
- `rules.audit.simulate` / `stats`: replay history without side effects; firing statistics.
- Events are written by the store (`crm_store.queries.events`).
"""
