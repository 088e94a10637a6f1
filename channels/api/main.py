"""All API routers under `/v1`; this module only includes them."""

from __future__ import annotations

from fastapi import APIRouter

from channels.api.routes import accounts, cards, chat, dashboard, handoffs, health, me, orders

api_router = APIRouter(prefix="/v1")
api_router.include_router(chat.router)
api_router.include_router(me.router)
api_router.include_router(accounts.router)
api_router.include_router(cards.router)
api_router.include_router(dashboard.router)
api_router.include_router(orders.router)
api_router.include_router(handoffs.router)
api_router.include_router(health.router)
