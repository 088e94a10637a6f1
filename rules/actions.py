"""What a rule can do. Each action checks its parameters at load time and runs inside the
worker's transaction, so an action's writes commit together with the firing record.

The contract and the shared helpers live in `rules.action_base`; `ACTIONS` maps the names used
in rule files to the classes here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from crm_store.models import (
    Contact,
    Conversation,
    DealStage,
    LeadStatus,
    NotificationStatus,
    Role,
    RuleState,
    Task,
    TaskSource,
    TaskStatus,
    Team,
    Ticket,
    TicketPriority,
    TicketStatus,
    User,
)
from crm_store.models.enums import ConversationStatus
from crm_store.queries.conversations import append_message
from crm_store.queries.deals import move_deal_stage
from crm_store.queries.tickets import SLA_HOURS, assign_ticket_number
from rules.action_base import (
    Action,
    ActionContext,
    ActionError,
    OwnerSpec,
    ParamError,
    check_params,
    default_owner,
    duration_param,
    owner_spec,
    template_param,
)
from rules.expr import Schema
from rules.templates import Template

__all__ = ["ACTIONS", "Action", "ActionContext", "ActionError", "ParamError"]


def _new_task(ctx: ActionContext, owner: User, title: str, due: datetime, desc: str) -> Task:
    account = (ctx.env.get("account") or {}).get("id")
    deal = (ctx.env.get("deal") or {}).get("id")
    task = Task(
        title=title[:200], description=desc, due_at=due, owner_id=owner.id, account_id=account,
        deal_id=deal, source=TaskSource.rule, status=TaskStatus.open,
    )  # fmt: skip
    ctx.session.add(task)
    ctx.session.flush()
    return task


class CreateTask(Action):
    """Create a task for a person, due some time after the event is processed."""

    kind = "create_task"
    minutes_saved = 2.0

    def __init__(self, params: Mapping[str, Any], schema: Schema, subject: str) -> None:
        check_params(params, {"title", "description", "due_in", "owner"}, {"title"})
        self.title = template_param(params, "title", schema)
        has_description = "description" in params
        self.description = (
            template_param(params, "description", schema) if has_description else Template(" ")
        )
        self.due_in = duration_param(params, "due_in", "1d")
        self.owner = (
            owner_spec(params["owner"], schema)
            if "owner" in params
            else default_owner(schema, subject)
        )

    def run(self, ctx: ActionContext) -> dict[str, Any]:
        owner = self.owner.resolve(ctx)
        task = _new_task(
            ctx,
            owner,
            self.title.render(ctx.env),
            ctx.now + self.due_in,
            self.description.render(ctx.env).strip(),
        )
        return {
            "action": self.kind,
            "task_id": task.id,
            "owner_id": owner.id,
            "due_at": task.due_at.isoformat() if task.due_at else None,
        }

    def describe(self, env: Mapping[str, Any]) -> dict[str, Any]:
        hours = self.due_in.total_seconds() / 3600
        return {
            "action": self.kind,
            "title": self.title.render(env),
            "owner": self.owner.describe(env),
            "due_in_hours": hours,
        }


# Which field holds "the owner" of each record an assignment can target.
_OWNER_FIELDS = {
    "lead": "owner_id",
    "deal": "owner_id",
    "account": "owner_id",
    "ticket": "assignee_id",
    "task": "owner_id",
}


class AssignOwner(Action):
    """Give the event's record an owner: round robin within a team, or by the account's country."""

    kind = "assign_owner"
    writes_env = True
    minutes_saved = 3.0

    def __init__(self, params: Mapping[str, Any], schema: Schema, subject: str) -> None:
        check_params(params, {"strategy", "team", "territories", "default", "record"}, {"strategy"})
        self.record = params.get("record", subject)
        if self.record not in _OWNER_FIELDS or self.record not in schema:
            raise ParamError("record", f"cannot assign an owner to {self.record!r} here")
        self.strategy = params["strategy"]
        if self.strategy == "round_robin":
            if not isinstance(params.get("team"), str):
                raise ParamError("team", "round_robin needs team: <team name>")
            self.team = params["team"]
        elif self.strategy == "territory":
            territories = params.get("territories")
            if not isinstance(territories, dict) or not territories:
                raise ParamError("territories", "territory needs territories: {country: email}")
            self.territories = {str(k).casefold(): str(v) for k, v in territories.items()}
            self.default = params.get("default")
        else:
            raise ParamError("strategy", "strategy must be round_robin or territory")

    def _round_robin(self, ctx: ActionContext) -> User:
        session = ctx.session
        members = list(session.scalars(
            select(User).join(Team, User.team_id == Team.id)
            .where(Team.name == self.team, User.is_active.is_(True), User.role == Role.rep)
            .order_by(User.id)
        ))  # fmt: skip
        if not members:
            raise ActionError(f"team {self.team!r} has no active members")
        key = f"round_robin:{self.team}"
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(
            dialect.insert(RuleState)
            .values(key=key, value=0)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        # The row lock serialises concurrent workers on the cursor, so nobody is skipped.
        state = session.scalars(
            select(RuleState).where(RuleState.key == key).with_for_update()
        ).one()
        user = members[state.value % len(members)]
        state.value = state.value + 1
        return user

    def _territory(self, ctx: ActionContext) -> User:
        country = str((ctx.env.get("account") or {}).get("country") or "")
        email = self.territories.get(country.casefold(), self.default)
        if not email:
            raise ActionError(f"no territory owner for country {country!r} and no default")
        return OwnerSpec(email=email).resolve(ctx)

    def run(self, ctx: ActionContext) -> dict[str, Any]:
        row = ctx.record(self.record)
        user = self._round_robin(ctx) if self.strategy == "round_robin" else self._territory(ctx)
        setattr(row, _OWNER_FIELDS[self.record], user.id)
        ctx.session.flush()
        # Later actions of the same firing (a task "for the new owner") read the new value.
        ctx.env[self.record][_OWNER_FIELDS[self.record]] = user.id
        return {
            "action": self.kind,
            "record": f"{self.record}:{row.id}",
            "owner_id": user.id,
            "strategy": self.strategy,
        }

    def describe(self, env: Mapping[str, Any]) -> dict[str, Any]:
        target = f"{self.record}:{(env.get(self.record) or {}).get('id')}"
        if self.strategy == "round_robin":
            return {"action": self.kind, "record": target, "team": self.team}
        country = str((env.get("account") or {}).get("country") or "")
        return {
            "action": self.kind,
            "record": target,
            "owner": self.territories.get(country.casefold(), self.default),
        }


# Writable fields and the values they accept; everything else is read-only to rules.
_WRITABLE: dict[tuple[str, str], type[Any]] = {
    ("lead", "status"): LeadStatus, ("deal", "stage"): DealStage,
    ("ticket", "priority"): TicketPriority, ("ticket", "status"): TicketStatus,
    ("conversation", "status"): ConversationStatus,
}  # fmt: skip


class SetField(Action):
    """Change one whitelisted field of a record the event touches (a deal stage, a priority...)."""

    kind = "set_field"

    def __init__(self, params: Mapping[str, Any], schema: Schema, subject: str) -> None:
        check_params(params, {"field", "value"}, {"field", "value"})
        parts = str(params["field"]).split(".")
        if len(parts) != 2 or tuple(parts) not in _WRITABLE:
            allowed = ", ".join(f"{r}.{f}" for r, f in _WRITABLE)
            raise ParamError("field", f"rules may set only: {allowed}")
        if parts[0] not in schema:
            raise ParamError("field", f"this trigger has no {parts[0]} record")
        self.record, self.field = parts
        enum_cls = _WRITABLE[(self.record, self.field)]
        try:
            self.value = enum_cls(params["value"])
        except ValueError as exc:
            choices = ", ".join(m.value for m in enum_cls)
            raise ParamError("value", f"value must be one of: {choices}") from exc

    def run(self, ctx: ActionContext) -> dict[str, Any]:
        row = ctx.record(self.record)
        before = getattr(row, self.field)
        if (self.record, self.field) == ("deal", "stage"):
            # Through the store, so the stage history and its event are written too.
            move_deal_stage(session=ctx.session, deal=row, stage=self.value, changed_by_id=None)
        else:
            setattr(row, self.field, self.value)
        ctx.session.flush()
        return {
            "action": self.kind,
            "record": f"{self.record}:{row.id}",
            "field": self.field,
            "from": str(before),
            "to": self.value.value,
        }

    def describe(self, env: Mapping[str, Any]) -> dict[str, Any]:
        ident = (env.get(self.record) or {}).get("id")
        return {
            "action": self.kind,
            "record": f"{self.record}:{ident}",
            "field": self.field,
            "to": self.value.value,
        }


_PRIORITIES = list(TicketPriority)


class EscalateTicket(Action):
    """Raise a ticket's priority (one level by default) and tighten its SLA; from a chat
    without a ticket, open an escalated ticket for the conversation's contact."""

    kind = "escalate_ticket"
    minutes_saved = 5.0

    def __init__(self, params: Mapping[str, Any], schema: Schema, subject: str) -> None:
        check_params(params, {"priority", "assignee"}, set())
        if "ticket" not in schema and "conversation" not in schema:
            raise ParamError(None, "escalate_ticket needs a trigger about a ticket or a chat")
        self.priority = None
        if "priority" in params:
            try:
                self.priority = TicketPriority(params["priority"])
            except ValueError as exc:
                message = "priority must be low, normal, high or urgent"
                raise ParamError("priority", message) from exc
        self.assignee = (
            owner_spec(params["assignee"], schema, "assignee") if "assignee" in params else None
        )
        self.on_ticket = "ticket" in schema

    def _target(self, current: TicketPriority) -> TicketPriority:
        if self.priority is not None:
            return max(self.priority, current, key=_PRIORITIES.index)
        return _PRIORITIES[min(_PRIORITIES.index(current) + 1, len(_PRIORITIES) - 1)]

    def _ticket_from_chat(self, ctx: ActionContext) -> Ticket:
        conversation = ctx.record("conversation")
        contact = (
            ctx.session.get(Contact, conversation.contact_id) if conversation.contact_id else None
        )
        ticket = Ticket(
            subject=f"Escalated chat #{conversation.id}", description="Opened by a rule.",
            email=contact.email if contact else None, contact_id=contact.id if contact else None,
            account_id=contact.account_id if contact else None, priority=TicketPriority.normal,
            created_at=ctx.now, updated_at=ctx.now, sla_due_at=ctx.now + timedelta(hours=24),
        )  # fmt: skip
        assign_ticket_number(ctx.session, ticket)
        return ticket

    def run(self, ctx: ActionContext) -> dict[str, Any]:
        ticket = ctx.record("ticket") if self.on_ticket else self._ticket_from_chat(ctx)
        before = ticket.priority
        ticket.priority = self._target(before)
        due = ctx.now + timedelta(hours=SLA_HOURS[ticket.priority])
        if ticket.sla_due_at is None or ticket.sla_due_at > due:
            ticket.sla_due_at = due
        if self.assignee is not None:
            ticket.assignee_id = self.assignee.resolve(ctx).id
        ticket.updated_at = ctx.now
        ctx.session.flush()
        return {
            "action": self.kind,
            "ticket": ticket.number,
            "from": before.value,
            "to": ticket.priority.value,
            "assignee_id": ticket.assignee_id,
        }

    def describe(self, env: Mapping[str, Any]) -> dict[str, Any]:
        if not self.on_ticket:
            return {"action": self.kind, "ticket": "new, from the chat"}
        current = TicketPriority((env.get("ticket") or {}).get("priority") or "normal")
        return {
            "action": self.kind,
            "ticket": (env.get("ticket") or {}).get("number"),
            "to": self._target(current).value,
        }


class Notify(Action):
    """Write a notification to the outbox; the Slack adapter delivers it (nothing is lost)."""

    kind = "notify"

    def __init__(self, params: Mapping[str, Any], schema: Schema, subject: str) -> None:
        check_params(params, {"to", "message", "channel"}, {"to", "message"})
        self.channel = str(params.get("channel", "slack"))
        target = params["to"]
        self.room = target if isinstance(target, str) and target.startswith("#") else None
        self.user = None if self.room else owner_spec(target, schema, "to")
        self.message = template_param(params, "message", schema)

    def run(self, ctx: ActionContext) -> dict[str, Any]:
        user = self.user.resolve(ctx) if self.user else None
        text = self.message.render(ctx.env)
        payload = {
            "rule": ctx.rule_name,
            "event_id": ctx.event.id,
            "text": text,
            "room": self.room,
            "user_id": user.id if user else None,
            "slack_user_id": user.slack_user_id if user else None,
            "email": user.email if user else None,
        }
        key = f"rule:{ctx.rule_name}:{ctx.event.id}:{ctx.index}"[:200]
        ctx.outbox.append(
            {
                "channel": self.channel,
                "kind": "rule",
                "payload": payload,
                "status": NotificationStatus.pending,
                "attempts": 0,
                "next_attempt_at": ctx.now,
                "dedupe_key": key,
                "created_at": ctx.now,
            }
        )
        return {
            "action": self.kind,
            "dedupe_key": key,
            "to": self.room or (user.email if user else None),
        }

    def describe(self, env: Mapping[str, Any]) -> dict[str, Any]:
        to = self.room or (self.user.describe(env) if self.user else None)
        return {"action": self.kind, "to": to, "text": self.message.render(env)}


class SendMessage(Action):
    """Post a templated message into the customer's conversation (the event's, else the
    account's most recent one)."""

    kind = "send_message"

    def __init__(self, params: Mapping[str, Any], schema: Schema, subject: str) -> None:
        check_params(params, {"text"}, {"text"})
        if "conversation" not in schema and "account" not in schema:
            raise ParamError(None, "send_message needs a trigger about a chat or an account")
        self.text = template_param(params, "text", schema)

    def _conversation_id(self, ctx: ActionContext) -> int:
        if "conversation" in ctx.env and (ctx.env["conversation"] or {}).get("id") is not None:
            return ctx.record("conversation").id
        account_id = (ctx.env.get("account") or {}).get("id")
        stmt = (
            select(Conversation.id)
            .join(Contact, Conversation.contact_id == Contact.id)
            .where(Contact.account_id == account_id)
            .order_by(Conversation.started_at.desc(), Conversation.id.desc())
        )
        found = ctx.session.scalars(stmt.limit(1)).first() if account_id is not None else None
        if found is None:
            raise ActionError(f"account {account_id} has no conversation to write to")
        return found

    def run(self, ctx: ActionContext) -> dict[str, Any]:
        conversation_id = self._conversation_id(ctx)
        message = append_message(
            session=ctx.session,
            conversation_id=conversation_id,
            sender="bot",
            text=self.text.render(ctx.env),
        )
        return {"action": self.kind, "conversation_id": conversation_id, "message_id": message.id}

    def describe(self, env: Mapping[str, Any]) -> dict[str, Any]:
        return {"action": self.kind, "text": self.text.render(env)}


class StartSequence(Action):
    """Start a follow-up sequence: one task per step, each due `after` the event."""

    kind = "start_sequence"
    minutes_saved = 4.0

    def __init__(self, params: Mapping[str, Any], schema: Schema, subject: str) -> None:
        check_params(params, {"name", "steps", "owner"}, {"name", "steps"})
        self.name = str(params["name"])
        steps = params["steps"]
        if not isinstance(steps, list) or not steps:
            raise ParamError("steps", "steps must be a list of {after: 2d, title: ...}")
        self.steps: list[tuple[timedelta, Template]] = []
        for step in steps:
            if not isinstance(step, dict) or set(step) - {"after", "title"} or "title" not in step:
                raise ParamError("steps", "each step is {after: <duration>, title: <text>}")
            after = duration_param(step, "after", "0d")
            self.steps.append((after, template_param(step, "title", schema)))
        self.owner = (
            owner_spec(params["owner"], schema)
            if "owner" in params
            else default_owner(schema, subject)
        )

    def run(self, ctx: ActionContext) -> dict[str, Any]:
        owner = self.owner.resolve(ctx)
        ids = []
        for i, (after, title) in enumerate(self.steps, start=1):
            desc = f"Sequence {self.name}, step {i} of {len(self.steps)}."
            ids.append(_new_task(ctx, owner, title.render(ctx.env), ctx.now + after, desc).id)
        return {"action": self.kind, "sequence": self.name, "task_ids": ids, "owner_id": owner.id}

    def describe(self, env: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "action": self.kind,
            "sequence": self.name,
            "steps": len(self.steps),
            "owner": self.owner.describe(env),
        }


ACTIONS: dict[str, Callable[[Mapping[str, Any], Schema, str], Action]] = {
    cls.kind: cls
    for cls in (
        CreateTask,
        AssignOwner,
        SetField,
        EscalateTicket,
        Notify,
        SendMessage,
        StartSequence,
    )
}
