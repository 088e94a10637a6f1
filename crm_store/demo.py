"""A deterministic demo company: same seed, same people, accounts, deals, orders and tickets.

Names, ids, amounts and tokens depend only on the seed. Dates are offsets from `today` (UTC
by default), so "deals closing this month" always has answers.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store import demo_catalog as cat
from crm_store.models import (
    Account,
    AccountStatus,
    Activity,
    ActivityKind,
    Contact,
    Conversation,
    ConversationStatus,
    Deal,
    DealStage,
    DealStageChange,
    Handoff,
    HandoffReason,
    HandoffStatus,
    Lead,
    LeadStatus,
    Message,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Subscription,
    Task,
    TaskSource,
    TaskStatus,
    Team,
    Ticket,
    TicketPriority,
    TicketStatus,
    User,
)
from crm_store.queries.users import create_user

DEMO_SEED = 20240601
DEMO_ACCOUNT_COUNT = 60
ORDER_NUMBER_BASE = 100_000  # ORD-100001...; imported retail invoices are 5xxxxx
TICKET_NUMBER_BASE = 1_000  # TCK-1001...; new tickets get TCK-<100000 + id>
CUSTOMER_ACCOUNTS = ("Northwind Traders", "Initech", "Globex Health")
STAGE_ORDER = list(DealStage)[:4]  # the open stages, in order


def demo_token(key: str, seed: int = DEMO_SEED) -> str:
    """The fixed API token of demo user `key`, derived from the seed."""
    digest = hashlib.sha256(f"crm-demo:{seed}:{key}".encode()).hexdigest()[:32]
    return f"crm_demo_{key}_{digest}"


def _customer_email(index: int) -> str:
    first, last = ("Nora", "Quinn", "Pablo")[index], ("Fields", "Harper", "Ruiz")[index]
    slug = CUSTOMER_ACCOUNTS[index].split()[0].lower()
    return f"{first.lower()}.{last.lower()}@{slug}.example"


@dataclass(frozen=True)
class DemoCredentials:
    """Fixed identities of the demo company (for the README walkthrough and tests)."""

    rep_email: str
    rep_token: str
    other_rep_email: str
    other_rep_token: str
    manager_email: str
    manager_token: str
    other_manager_token: str
    agent_email: str
    agent_token: str
    admin_email: str
    admin_token: str
    customer_email: str
    customer_token: str
    customer_order_number: str
    customer_ticket_number: str
    # Visible to the rep (and their manager), never to the other rep.
    rep_account_name: str = "Acme Corp"
    similar_account_name: str = "Acme Logistics"
    other_rep_account_name: str = "Globex Corporation"
    customer_account_name: str = CUSTOMER_ACCOUNTS[0]
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def customer_order(self) -> str:
        """Alias of `customer_order_number`."""
        return self.customer_order_number


def _credentials(seed: int = DEMO_SEED) -> DemoCredentials:
    staff = {key: email for key, _, email, _, _ in cat.STAFF}
    tokens = {key: demo_token(key, seed) for key in staff}
    tokens.update({f"customer{i + 1}": demo_token(f"customer{i + 1}", seed) for i in range(3)})
    return DemoCredentials(
        rep_email=staff["rep1"],
        rep_token=tokens["rep1"],
        other_rep_email=staff["rep2"],
        other_rep_token=tokens["rep2"],
        manager_email=staff["manager1"],
        manager_token=tokens["manager1"],
        other_manager_token=tokens["manager2"],
        agent_email=staff["agent1"],
        agent_token=tokens["agent1"],
        admin_email=staff["admin"],
        admin_token=tokens["admin"],
        customer_email=_customer_email(0),
        customer_token=tokens["customer1"],
        customer_order_number=f"ORD-{ORDER_NUMBER_BASE + 1}",
        customer_ticket_number=f"TCK-{TICKET_NUMBER_BASE + 1}",
        tokens=tokens,
    )


DEMO_CREDENTIALS = _credentials()


@dataclass
class _Ctx:
    """State shared by the builders while seeding."""

    session: Session
    rng: random.Random
    seed: int
    today: date
    users: dict[str, User] = field(default_factory=dict)
    accounts: list[Account] = field(default_factory=list)
    contacts: dict[int, list[Contact]] = field(default_factory=dict)
    products: list[Product] = field(default_factory=list)

    def at(self, days: float, hour: int = 10) -> datetime:
        """A UTC timestamp `days` from today (negative = past) at `hour` o'clock."""
        base = datetime.combine(self.today, time(hour=hour), tzinfo=UTC)
        return base + timedelta(days=days)

    @property
    def reps(self) -> list[User]:
        return [u for k, u in sorted(self.users.items()) if k.startswith("rep")]


def is_seeded(session: Session) -> bool:
    """True when the demo company is already in the database."""
    admin = cat.STAFF[-1][2]
    return session.scalar(select(User.id).where(User.email == admin)) is not None


def _add(ctx: _Ctx, obj: object) -> None:
    ctx.session.add(obj)


def _staff(ctx: _Ctx) -> None:
    teams = [Team(name=name) for name in cat.TEAMS]
    ctx.session.add_all(teams)
    ctx.session.flush()
    for key, name, email, role, team_index in cat.STAFF:
        team = cat.TEAMS[team_index] if team_index is not None else None
        user, _ = create_user(
            session=ctx.session, email=email, role=role, name=name, team=team,
            token=demo_token(key, ctx.seed),
        )  # fmt: skip
        ctx.users[key] = user


def _account_names(rng: random.Random) -> list[tuple[str, str, str, str | None]]:
    """The fixed accounts, then generated ones with one head word each (no accidental
    look-alikes: only the fixed pairs are ambiguous)."""
    names: list[tuple[str, str, str, str | None]] = list(cat.FIXED_ACCOUNTS)
    heads = list(cat.NAME_HEADS)
    rng.shuffle(heads)
    for head in heads[: DEMO_ACCOUNT_COUNT - len(names)]:
        tail = rng.choice(cat.NAME_TAILS)
        name = f"{head} {tail} {rng.choice(cat.SUFFIXES)}".strip()
        names.append((name, cat.INDUSTRY_BY_TAIL[tail], rng.choice(cat.COUNTRIES), None))
    return names


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower().split()[0] if ch.isalnum())


def _accounts(ctx: _Ctx) -> None:
    reps = ctx.reps
    for index, (name, industry, country, owner_key) in enumerate(_account_names(ctx.rng)):
        owner = ctx.users[owner_key] if owner_key else reps[index % len(reps)]
        churned = owner_key is None and ctx.rng.random() < 0.08
        account = Account(
            name=name, industry=industry, country=country, owner_id=owner.id,
            annual_revenue=Decimal(ctx.rng.randrange(5, 900)) * Decimal("100000"),
            status=AccountStatus.churned if churned else AccountStatus.active,
            created_at=ctx.at(-ctx.rng.randrange(200, 900)),
        )  # fmt: skip
        _add(ctx, account)
        ctx.accounts.append(account)
    ctx.session.flush()


def _contacts(ctx: _Ctx) -> None:
    for account in ctx.accounts:
        people = []
        for _ in range(ctx.rng.randint(1, 3)):
            first, last = ctx.rng.choice(cat.FIRST_NAMES), ctx.rng.choice(cat.LAST_NAMES)
            people.append(
                Contact(
                    account_id=account.id,
                    first_name=first,
                    last_name=last,
                    email=f"{first.lower()}.{last.lower()}@{_slug(account.name)}.example",
                    phone=f"+1-555-{ctx.rng.randrange(1000, 9999)}",
                    title=ctx.rng.choice(cat.TITLES),
                    created_at=account.created_at,
                )  # fmt: skip
            )
        ctx.session.add_all(people)
        ctx.contacts[account.id] = people
    ctx.session.flush()


def _products(ctx: _Ctx) -> None:
    for sku, name, category, price in cat.PRODUCTS:
        ctx.products.append(Product(sku=sku, name=name, category=category, unit_price=price))
    ctx.session.add_all(ctx.products)
    ctx.session.flush()


def _deal_history(ctx: _Ctx, deal: Deal, created: datetime, final: DealStage) -> None:
    path = STAGE_ORDER[: STAGE_ORDER.index(final) + 1] if final.is_open else None
    if path is None:  # closed: walk some open stages, then close
        path = [*STAGE_ORDER[: ctx.rng.randint(1, 4)], final]
    when, previous = created, None
    for stage in path:
        days = ctx.rng.randint(3, 20) if previous else 0
        when = min(when + timedelta(days=days), ctx.at(-1))
        deal.stage_changes.append(
            DealStageChange(from_stage=previous, to_stage=stage, changed_at=when,
                            changed_by_id=deal.owner_id, days_in_previous=days or None)
        )  # fmt: skip
        previous = stage


def _one_deal(ctx: _Ctx, account: Account, stage: DealStage, close_in_days: int) -> Deal:
    created = ctx.at(-ctx.rng.randint(30, 150))
    deal = Deal(
        account_id=account.id, owner_id=account.owner_id,
        name=f"{account.name} - {ctx.rng.choice(cat.DEAL_KINDS)}",
        amount=Decimal(ctx.rng.randrange(20, 1200)) * Decimal("100"),
        currency="USD", stage=stage, close_date=ctx.today + timedelta(days=close_in_days),
        created_at=created,
    )  # fmt: skip
    _deal_history(ctx, deal, created, stage)
    _add(ctx, deal)
    return deal


def _deals(ctx: _Ctx) -> None:
    month_end = (ctx.today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    days_left = (month_end - ctx.today).days
    for index, account in enumerate(ctx.accounts):
        if account.status is AccountStatus.churned:
            _one_deal(ctx, account, DealStage.closed_lost, -ctx.rng.randint(20, 200))
            continue
        for n in range(ctx.rng.randint(1, 3) if index >= 3 else 2):
            stage = STAGE_ORDER[(index + n) % 4] if n == 0 else ctx.rng.choice(list(DealStage))
            if stage.is_open:
                # Every third open deal closes before the month ends: "this month" has answers.
                close = ctx.rng.randint(0, days_left) if (index + n) % 3 == 0 else None
                close = close if close is not None else ctx.rng.randint(5, 150)
            else:
                close = -ctx.rng.randint(5, 300)
            _one_deal(ctx, account, stage, close)
    ctx.session.flush()


def _order_times(ctx: _Ctx, status: OrderStatus, placed: datetime) -> tuple:
    shipped = placed + timedelta(days=ctx.rng.randint(1, 3))
    delivered = shipped + timedelta(days=ctx.rng.randint(2, 6))
    if status in (OrderStatus.pending, OrderStatus.paid, OrderStatus.cancelled):
        return None, None, None
    tracking = f"1Z{ctx.rng.randrange(10**9, 10**10)}"
    if status is OrderStatus.shipped:
        return min(shipped, ctx.at(-1)), None, tracking
    return shipped, delivered, tracking


def _order_status(ctx: _Ctx, index: int) -> tuple[OrderStatus, int]:
    """A status and how many days ago the order was placed (recent ones are in flight)."""
    if index == 0:
        return OrderStatus.shipped, 3  # the demo customer's order: on its way
    status = list(OrderStatus)[index % len(OrderStatus)]
    recent = status in (OrderStatus.pending, OrderStatus.paid, OrderStatus.shipped)
    return status, ctx.rng.randint(1, 6) if recent else ctx.rng.randint(10, 180)


def _basket(drawn: list[Product], by_sku: dict[str, Product], rng: random.Random) -> list[Product]:
    """As many distinct products as `drawn`, the later ones mostly from the first's group.

    The draws from the seeding RNG stay the same as before bundles existed (this one has its
    own), so every later demo record (tickets, deals...) is unchanged.
    """
    group = next((g for g in cat.BUNDLES if drawn[0].sku in g), (drawn[0].sku,))
    partners = [by_sku[sku] for sku in group if sku != drawn[0].sku]
    rng.shuffle(partners)
    basket = [drawn[0]]
    for fallback in drawn[1:]:
        pick = partners.pop() if partners and rng.random() < cat.BUNDLE_SHARE else fallback
        if pick in basket:
            pick = next(p for p in [fallback, *partners, *by_sku.values()] if p not in basket)
        basket.append(pick)
    return basket


def _orders(ctx: _Ctx, customer_accounts: list[Account]) -> None:
    baskets = random.Random(f"{ctx.seed}:baskets")
    by_sku = {p.sku: p for p in ctx.products}
    buyers = customer_accounts + [a for a in ctx.accounts if a not in customer_accounts]
    for index in range(120):
        account = buyers[index % len(buyers)] if index < 9 else ctx.rng.choice(ctx.accounts)
        contact = ctx.contacts[account.id][0]
        status, age = _order_status(ctx, index)
        placed = ctx.at(-age, hour=ctx.rng.randint(8, 18))
        shipped, delivered, tracking = _order_times(ctx, status, placed)
        order = Order(
            number=f"ORD-{ORDER_NUMBER_BASE + index + 1}", account_id=account.id,
            contact_id=contact.id, email=contact.email, status=status, placed_at=placed,
            shipped_at=shipped, delivered_at=delivered, tracking_number=tracking,
            currency="USD", total=Decimal("0.00"),
        )  # fmt: skip
        drawn = ctx.rng.sample(ctx.products, ctx.rng.randint(1, 4))
        for product in _basket(drawn, by_sku, baskets):
            qty = ctx.rng.randint(1, 25)
            order.lines.append(OrderLine(product_id=product.id, quantity=qty,
                                         unit_price=product.unit_price))  # fmt: skip
            order.total += product.unit_price * qty
        _add(ctx, order)
    ctx.session.flush()


def _tickets(ctx: _Ctx, customer_accounts: list[Account]) -> None:
    agents = [ctx.users["agent1"], ctx.users["agent2"]]
    statuses = list(TicketStatus)
    for index in range(40):
        account = customer_accounts[index] if index < 3 else ctx.rng.choice(ctx.accounts)
        contact = ctx.contacts[account.id][0]
        status = TicketStatus.open if index < 3 else statuses[index % 4]
        priority = ctx.rng.choice(list(TicketPriority))
        created = ctx.at(-ctx.rng.randint(0, 60), hour=ctx.rng.randint(8, 18))
        ticket = Ticket(
            number=f"TCK-{TICKET_NUMBER_BASE + index + 1}", account_id=account.id,
            contact_id=contact.id, email=contact.email,
            subject=cat.TICKET_SUBJECTS[index % len(cat.TICKET_SUBJECTS)],
            description="Reported through the support portal.", status=status,
            priority=priority, assignee_id=ctx.rng.choice(agents).id if index % 5 else None,
            sla_due_at=created + timedelta(hours=(4, 8, 24, 72)[index % 4]),
            created_at=created, updated_at=created,
            resolved_at=created + timedelta(hours=30)
            if status in (TicketStatus.resolved, TicketStatus.closed) else None,
        )  # fmt: skip
        _add(ctx, ticket)
    ctx.session.flush()


def _activities(ctx: _Ctx) -> None:
    kinds = list(ActivityKind)
    for index, account in enumerate(ctx.accounts):
        # Every seventh account has gone quiet for months: stale-deal rules find it.
        stale = index % 7 == 6
        for _ in range(ctx.rng.randint(2, 6)):
            kind = ctx.rng.choice(kinds)
            age = ctx.rng.randint(95, 200) if stale else ctx.rng.randint(0, 60)
            contact = ctx.rng.choice(ctx.contacts[account.id])
            _add(ctx, Activity(
                kind=kind, account_id=account.id, contact_id=contact.id,
                user_id=account.owner_id, subject=ctx.rng.choice(cat.ACTIVITY_SUBJECTS[kind]),
                body=f"With {contact.full_name}.", occurred_at=ctx.at(-age, hour=14),
            ))  # fmt: skip
    ctx.session.flush()
    _stamp_deal_activity(ctx)


def _stamp_deal_activity(ctx: _Ctx) -> None:
    latest: dict[int, datetime] = {}
    for activity in ctx.session.scalars(select(Activity)):
        seen = latest.get(activity.account_id)
        latest[activity.account_id] = (
            max(seen, activity.occurred_at) if seen else activity.occurred_at
        )
    for deal in ctx.session.scalars(select(Deal)):
        deal.last_activity_at = latest.get(deal.account_id)


def _tasks(ctx: _Ctx) -> None:
    for index in range(30):
        account = ctx.accounts[index % 12]
        status = (TaskStatus.open, TaskStatus.open, TaskStatus.done)[index % 3]
        _add(ctx, Task(
            title=cat.TASK_TITLES[index % len(cat.TASK_TITLES)], owner_id=account.owner_id,
            account_id=account.id, due_at=ctx.at(ctx.rng.randint(-10, 20), hour=9),
            status=status, source=(TaskSource.manual, TaskSource.rule)[index % 2],
            completed_at=ctx.at(-1) if status is TaskStatus.done else None,
        ))  # fmt: skip


def _leads(ctx: _Ctx) -> None:
    statuses = list(LeadStatus)
    for index, (name, email, company, need) in enumerate(cat.LEADS):
        _add(ctx, Lead(
            name=name, email=email, company=company, need=need,
            source=("web_chat", "website_form", "event")[index % 3],
            status=statuses[index % len(statuses)], created_at=ctx.at(-index * 3),
            owner_id=ctx.reps[index % len(ctx.reps)].id if index % 2 else None,
        ))  # fmt: skip


def _customers(ctx: _Ctx) -> list[Account]:
    """Customer logins at three accounts; their contact's email is the login email."""
    by_name = {a.name: a for a in ctx.accounts}
    accounts = []
    for index, account_name in enumerate(CUSTOMER_ACCOUNTS):
        account = by_name[account_name]
        email = _customer_email(index)
        first, last = email.split("@")[0].split(".")
        contact = Contact(account_id=account.id, first_name=first.title(),
                          last_name=last.title(), email=email, title="Operations Lead")  # fmt: skip
        ctx.session.add(contact)
        ctx.session.flush()
        ctx.contacts[account.id].insert(0, contact)
        key = f"customer{index + 1}"
        create_user(
            session=ctx.session, email=email, role="customer", name=contact.full_name,
            contact_id=contact.id, token=demo_token(key, ctx.seed),
        )  # fmt: skip
        accounts.append(account)
    return accounts


# Demo accounts are companies, not Telco households, but the churn model reads Telco-shaped
# subscriptions. Each account gets one plan: tenure is the months since the account was
# created, churned accounts were on month-to-month contracts, and the other fields are drawn
# from their own seeded generator (so adding them leaves every other demo row unchanged).
# Acme Corp is pinned to the classic high-risk profile so the walkthrough has a clear case.
_AT_RISK_PLAN = {
    "contract": "Month-to-month", "internet_service": "Fiber optic",
    "payment_method": "Electronic check", "paperless_billing": True,
}  # fmt: skip
_SERVICES = ("OnlineSecurity", "OnlineBackup", "DeviceProtection", "TechSupport",
             "StreamingTV", "StreamingMovies")  # fmt: skip
_PAYMENTS = ("Electronic check", "Mailed check", "Bank transfer (automatic)",
             "Credit card (automatic)")  # fmt: skip


def _plan(rng: random.Random, account: Account, today: date) -> dict[str, object]:
    """One Telco-shaped subscription for a demo account (deterministic for a seed)."""
    contract = rng.choices(("Month-to-month", "One year", "Two year"), (45, 30, 25))[0]
    plan: dict[str, object] = {
        "contract": "Month-to-month" if account.status is AccountStatus.churned else contract,
        "internet_service": rng.choices(("Fiber optic", "DSL", "No"), (45, 40, 15))[0],
        "payment_method": rng.choice(_PAYMENTS),
        "paperless_billing": rng.random() < 0.6,
    }
    if account.name == cat.FIXED_ACCOUNTS[0][0]:
        plan.update(_AT_RISK_PLAN)
    internet = plan["internet_service"] != "No"
    services: dict[str, str] = {"PhoneService": "Yes", "MultipleLines": rng.choice(("Yes", "No"))}
    for name in _SERVICES:
        services[name] = rng.choice(("Yes", "No")) if internet else "No internet service"
    base = {"Fiber optic": 70.0, "DSL": 45.0, "No": 20.0}[str(plan["internet_service"])]
    monthly = round(base + 5.0 * sum(v == "Yes" for v in services.values()), 2)
    tenure = max(1, (today - account.created_at.date()).days // 30)
    total = round(monthly * tenure * rng.uniform(0.97, 1.03), 2)
    return {
        **plan, "services": services, "tenure_months": tenure,
        "monthly_charges": Decimal(f"{monthly:.2f}"), "total_charges": Decimal(f"{total:.2f}"),
        "gender": rng.choice(("Female", "Male")), "senior_citizen": False,
        "partner": rng.random() < 0.5, "dependents": rng.random() < 0.3,
        "churned": True if account.status is AccountStatus.churned else None,
    }  # fmt: skip


def _subscriptions(ctx: _Ctx) -> None:
    rng = random.Random(f"{ctx.seed}:subscriptions")
    for index, account in enumerate(ctx.accounts):
        plan = _plan(rng, account, ctx.today)
        _add(ctx, Subscription(account_id=account.id, external_ref=f"demo:{index + 1:03d}",
                               **plan))  # fmt: skip


_HANDOFF_NOTE = "Handoff requested: the person asked to talk to a human."
_ENDINGS = {"bot": ConversationStatus.bot, "resolved": ConversationStatus.closed}


@dataclass
class _Clock:
    """Message times of one scripted conversation: people type, the bot answers in a second."""

    rng: random.Random
    now: datetime

    def next(self, sender: str, after_handoff: bool) -> datetime:
        if sender == "user":
            gap = self.rng.uniform(8, 50)
        elif sender == "agent":
            gap = self.rng.uniform(45, 400) if after_handoff else self.rng.uniform(20, 120)
        else:
            gap = self.rng.uniform(0.3, 2.5)
        self.now += timedelta(seconds=round(gap, 3))
        return self.now


def _conversation_messages(
    ctx: _Ctx, conversation: Conversation, script: tuple, clock: _Clock
) -> tuple[datetime | None, datetime | None]:
    """Add the scripted messages.

    Returns:
        When a person was asked for and when an agent first answered (None: never).
    """
    handoff_at = first_agent_at = None
    for sender, text, mark in script:
        at = clock.next(sender, after_handoff=sender == "agent" and first_agent_at is None)
        if sender == "bot" and text.startswith("I'll get a person"):
            handoff_at = at
            _add(ctx, Message(conversation_id=conversation.id, sender="system",
                              text=_HANDOFF_NOTE, created_at=at))  # fmt: skip
        if sender == "agent" and first_agent_at is None:
            first_agent_at = at
        _add(ctx, Message(conversation_id=conversation.id, sender=sender, text=text,
                          meta={"outcome": mark} if mark else {}, created_at=at))  # fmt: skip
    conversation.last_message_at = clock.now
    return handoff_at, first_agent_at


def _handoff(conversation: Conversation, times: tuple, agent: User) -> Handoff:
    """The resolved handoff row of a scripted conversation, answered by `agent`."""
    requested, replied = times
    return Handoff(
        conversation_id=conversation.id, reason=HandoffReason.customer_request,
        status=HandoffStatus.resolved, requested_at=requested, first_agent_reply_at=replied,
        claimed_at=replied - timedelta(seconds=20), claimed_by_user_id=agent.id,
        resolved_at=conversation.last_message_at, csat=conversation.csat,
    )  # fmt: skip


def _conversations(ctx: _Ctx) -> None:
    """Website and rep chats of the last weeks, so the console's analytics have figures.

    Their handoffs get `handoffs` rows but no CRM events: they are history, and the rules
    engine must not notify anyone about them when it first runs on the demo.
    """
    rng = random.Random(f"{ctx.seed}:conversations")
    by_name = {a.name: a for a in ctx.accounts}
    for index, (account_name, channel, staff, days, csat, ending, script) in enumerate(
        cat.CONVERSATIONS
    ):
        account = by_name.get(account_name) if account_name else None
        # The account's last contact: never a demo customer login (the first), whose data
        # the GDPR export and the customer tests know exactly.
        started = ctx.at(-days, hour=rng.randint(9, 17)) + timedelta(minutes=rng.randint(0, 59))
        key = hashlib.sha256(f"{ctx.seed}:conversation:{index}".encode()).hexdigest()[:32]
        conversation = Conversation(
            channel=channel, external_id=f"demo-{index + 1:02d}", rasa_sender_id=key,
            user_id=ctx.users[staff].id if staff else None,
            contact_id=ctx.contacts[account.id][-1].id if account else None,
            status=_ENDINGS[ending], started_at=started, csat=csat,
        )  # fmt: skip
        _add(ctx, conversation)
        ctx.session.flush()
        times = _conversation_messages(ctx, conversation, script, _Clock(rng, started))
        if times[0] is not None and times[1] is not None:
            agent = ctx.users[("agent1", "agent2")[index % 2]]
            _add(ctx, _handoff(conversation, times, agent))
    ctx.session.flush()


def seed(session: Session, *, seed: int = DEMO_SEED, today: date | None = None) -> bool:
    """Build the demo company in `session` (the caller commits).

    Args:
        seed: the random seed; `DEMO_CREDENTIALS` describes the default one.
        today: the date every generated date is relative to (UTC today by default).

    Returns:
        True when data was added; False when the demo company was already there (no-op).
    """
    if is_seeded(session):
        return False
    ctx = _Ctx(session=session, rng=random.Random(seed), seed=seed,
               today=today or datetime.now(UTC).date())  # fmt: skip
    _staff(ctx)
    _accounts(ctx)
    _contacts(ctx)
    _products(ctx)
    customer_accounts = _customers(ctx)
    _deals(ctx)
    _orders(ctx, customer_accounts)
    _tickets(ctx, customer_accounts)
    _activities(ctx)
    _tasks(ctx)
    _leads(ctx)
    _subscriptions(ctx)
    _conversations(ctx)
    session.flush()
    return True


def credentials_for(seed: int = DEMO_SEED) -> DemoCredentials:
    """The fixed credentials of the demo company built with `seed`."""
    return DEMO_CREDENTIALS if seed == DEMO_SEED else _credentials(seed)
