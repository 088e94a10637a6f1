"""The action contract and the parameter helpers every action shares.

An action is two methods: `run(ctx) -> dict` (do it, say what was done, for the audit trail)
and `describe(env) -> dict` (say what would be done, for `crm rules simulate`). Parameters are
checked when the rule file loads; `ParamError` names the parameter so the loader can point at
its line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store.models import Account, Conversation, Deal, Lead, Task, Ticket, User
from rules.expr import NUMBER, ExprError, Schema, check_path, parse_duration, path_reader
from rules.templates import Template, compile_template


class ActionError(Exception):
    """An action could not be carried out (e.g. its record vanished); the firing fails whole."""


class ParamError(ValueError):
    """A bad action parameter; `param` names it so the loader can point at its line."""

    def __init__(self, param: str | None, message: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass
class ActionContext:
    """What an action may use: the session of the firing, the event and the condition env."""

    session: Session
    event: Any  # a crm_events row (or a CrmEvent): id, type, subject_type, subject_id...
    env: dict[str, Any]
    rule_name: str
    now: datetime
    index: int = 0
    subject: str = ""
    # Rows to insert in bulk with the batch (notifications): one statement, not one per firing.
    outbox: list[dict[str, Any]] = field(default_factory=list)

    def record(self, root: str) -> Any:
        """The live ORM row behind `root` ("deal", "account"...), or ActionError if gone."""
        model = _MODELS[root]
        ident = (self.env.get(root) or {}).get("id")
        if ident is None and root == self.event.subject_type:
            ident = self.event.subject_id  # the subject vanished before its event was processed
        row = self.session.get(model, ident) if ident is not None else None
        if row is None:
            raise ActionError(f"{root} {ident} no longer exists")
        return row


_MODELS: dict[str, type[Any]] = {
    "lead": Lead, "deal": Deal, "ticket": Ticket, "task": Task,
    "conversation": Conversation, "account": Account,
}  # fmt: skip


# ------------------------------------------------------------------ parameter helpers


def check_params(params: Mapping[str, Any], allowed: set[str], required: set[str]) -> None:
    for name in params:
        if name not in allowed:
            raise ParamError(str(name), f"unknown parameter {name!r} (allowed: {sorted(allowed)})")
    for name in sorted(required - set(params)):
        raise ParamError(None, f"missing parameter {name!r}")


def template_param(params: Mapping[str, Any], name: str, schema: Schema) -> Template:
    try:
        return compile_template(params[name], schema)
    except ExprError as exc:
        raise ParamError(name, f"{name}: {exc}") from exc


def duration_param(params: Mapping[str, Any], name: str, default: str) -> timedelta:
    try:
        return parse_duration(params.get(name, default))
    except ValueError as exc:
        raise ParamError(name, str(exc)) from exc


@dataclass(frozen=True)
class OwnerSpec:
    """Who gets something: an email, or a field holding a user id (`deal.owner_id`)."""

    email: str | None = None
    path: tuple[str, ...] | None = None

    def resolve(self, ctx: ActionContext) -> User:
        """The active user named here.

        Raises:
            ActionError: no such user, or the field is empty.
        """
        if self.email is not None:
            user = ctx.session.scalars(
                select(User).where(func.lower(User.email) == self.email.lower())
            ).first()
            where = self.email
        else:
            assert self.path is not None
            ident = path_reader(self.path)(ctx.env)
            user = ctx.session.get(User, int(ident)) if ident is not None else None
            where = ".".join(self.path) + f" = {ident}"
        if user is None or not user.is_active:
            raise ActionError(f"no active user for owner {where}")
        return user

    def describe(self, env: Mapping[str, Any]) -> str:
        """The owner as text, without touching the database."""
        if self.email is not None:
            return self.email
        assert self.path is not None
        return f"user {path_reader(self.path)(env)} ({'.'.join(self.path)})"


def owner_spec(value: Any, schema: Schema, param: str = "owner") -> OwnerSpec:
    """Parse an owner parameter: an email, or a `record.field` holding a user id."""
    if not isinstance(value, str) or not value.strip():
        raise ParamError(param, f"{param} must be an email or a field such as deal.owner_id")
    value = value.strip()
    if "@" in value:
        return OwnerSpec(email=value)
    parts = tuple(value.split("."))
    try:
        kind = check_path(parts, schema, 1)
    except ExprError as exc:
        raise ParamError(param, f"{param}: {exc.message}") from exc
    if kind not in (NUMBER, "any"):
        raise ParamError(param, f"{param}: {value} is a {kind}, not a user id")
    return OwnerSpec(path=parts)


def default_owner(schema: Schema, subject: str) -> OwnerSpec:
    """The subject's own owner when it has one, else the account owner."""
    for root, name in ((subject, "owner_id"), (subject, "assignee_id"), ("account", "owner_id")):
        if name in schema.get(root, {}):
            return OwnerSpec(path=(root, name))
    raise ParamError("owner", "this trigger's records have no owner; give owner: explicitly")


class Action:
    """Base: `kind` names the action in rule files; subclasses set it and implement run."""

    kind = ""
    minutes_saved = 1.0  # a rough estimate of the manual work one run replaces (for stats)
    # True when `run` writes into `ctx.env` (so later actions see a new owner): the worker
    # then runs the firing on a copy, kept only if every action succeeds.
    writes_env = False

    def run(self, ctx: ActionContext) -> dict[str, Any]:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self, env: Mapping[str, Any]) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError
