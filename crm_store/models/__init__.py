"""All CRM models, importable from one place; importing this registers every table."""

from crm_store.models.accounts import Account, Contact, Subscription
from crm_store.models.activities import Activity, Task
from crm_store.models.base import Base, UTCDateTime, utcnow
from crm_store.models.conversations import Conversation, Message
from crm_store.models.enums import (
    OPEN_DEAL_STAGES,
    OPEN_HANDOFF_STATUSES,
    OPEN_TICKET_STATUSES,
    AccountStatus,
    ActivityKind,
    Channel,
    ConversationStatus,
    DealStage,
    HandoffReason,
    HandoffStatus,
    LeadStatus,
    MessageSender,
    NotificationStatus,
    OrderStatus,
    Role,
    TaskSource,
    TaskStatus,
    TicketPriority,
    TicketStatus,
)
from crm_store.models.events import CrmEvent, RuleFiring, RuleState  # noqa: F401
from crm_store.models.handoffs import Handoff
from crm_store.models.knowledge import KnowledgeArticle, KnowledgeChunk  # noqa: F401
from crm_store.models.notifications import Notification
from crm_store.models.orders import Order, OrderLine
from crm_store.models.people import ApiToken, Team, User
from crm_store.models.predictions import PredictionScore
from crm_store.models.sales import Deal, DealStageChange, Lead, Product
from crm_store.models.slack import SlackEventReceipt
from crm_store.models.support import Ticket

__all__ = [
    "OPEN_DEAL_STAGES",
    "OPEN_HANDOFF_STATUSES",
    "OPEN_TICKET_STATUSES",
    "Account",
    "AccountStatus",
    "Activity",
    "ActivityKind",
    "ApiToken",
    "Base",
    "Channel",
    "Contact",
    "Conversation",
    "ConversationStatus",
    "Deal",
    "DealStage",
    "DealStageChange",
    "Handoff",
    "HandoffReason",
    "HandoffStatus",
    "Lead",
    "LeadStatus",
    "Message",
    "MessageSender",
    "Notification",
    "NotificationStatus",
    "Order",
    "OrderLine",
    "OrderStatus",
    "PredictionScore",
    "Product",
    "Role",
    "SlackEventReceipt",
    "Subscription",
    "Task",
    "TaskSource",
    "TaskStatus",
    "Team",
    "Ticket",
    "TicketPriority",
    "TicketStatus",
    "User",
    "UTCDateTime",
    "utcnow",
]
