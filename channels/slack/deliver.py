"""The outbox deliverer: posts pending Slack notifications, retries with back-off, never
posts one twice (docs/slack.md, "Delivery guarantees").

One pass: (1) rows whose claim outlived its lease are marked failed (their deliverer died
mid-post, so they may already be in Slack); (2) due rows are claimed in a short transaction;
(3) each is rendered, posted, and marked sent in the transaction that also records what the
post created. Runs in the API's lifespan and as `crm slack deliver`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient
from starlette.concurrency import run_in_threadpool

from channels.slack.notices import KindHandler, NotReadyError, Post, Posted, UndeliverableError
from channels.slack.outcomes import Failure, classify
from channels.slack.settings import SlackSettings
from crm_store.db import session_scope
from crm_store.errors import CrmError
from crm_store.models import NotificationStatus, utcnow
from crm_store.queries.notifications import (
    ClaimedNotification,
    claim_due_notifications,
    fail_stale_notifications,
    mark_notification_sent,
    reschedule_notification,
)
from crm_store.queries.slack_events import prune_slack_events

log = logging.getLogger(__name__)

CHANNEL = "slack"
RECEIPT_TTL = timedelta(days=1)  # Slack retries for about an hour; a day is plenty
PRUNE_EVERY = timedelta(hours=1)


@dataclass
class PassReport:
    """What one pass did, for the CLI and the tests."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    stale: int = 0

    @property
    def handled(self) -> int:
        """Rows this pass claimed."""
        return self.sent + self.retried + self.failed


def backoff_s(attempts: int, settings: SlackSettings) -> float:
    """Wait before attempt `attempts + 1`: base, doubled per attempt, capped."""
    return min(settings.backoff_max_s, settings.backoff_base_s * 2 ** max(0, attempts - 1))


class Deliverer:
    """Delivers the `slack` rows of the notification outbox.

    Args:
        client: Web API client, built without the SDK's silent retries (they could post
            twice after a dropped connection).
        settings: intervals, batch size, attempts and back-off.
        database_url: the CRM store (None: crm_store's default).
        kinds: handler per notification `kind`; other kinds fail with a reason.
    """

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        settings: SlackSettings,
        database_url: str | None,
        kinds: Mapping[str, KindHandler],
    ) -> None:
        self.client = client
        self.settings = settings
        self.database_url = database_url
        self.kinds = dict(kinds)
        self._pruned_at: datetime | None = None

    async def run_once(self, now: datetime | None = None) -> PassReport:
        """One pass over the due notifications; returns what it did."""
        now = now or utcnow()
        report = PassReport()
        report.stale = await run_in_threadpool(self._fail_stale, now)
        for note in await run_in_threadpool(self._claim, now):
            status = await self._deliver(note, now)
            if status is NotificationStatus.sent:
                report.sent += 1
            elif status is NotificationStatus.pending:
                report.retried += 1
            else:
                report.failed += 1
        await self._maybe_prune(now)
        return report

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Pass after pass until `stop` is set; a pass that fails is logged, not fatal."""
        while not stop.is_set():
            try:
                report = await self.run_once()
            except Exception:  # the database may be down; try again next interval
                log.exception("Slack delivery pass failed")
                report = PassReport()
            if report.handled:
                log.info("Slack delivery: %s", report)
            if report.handled < self.settings.deliver_batch:  # else more are waiting
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.deliver_interval_s)

    def _fail_stale(self, now: datetime) -> int:
        with session_scope(self.database_url) as session:
            count = fail_stale_notifications(session=session, channel=CHANNEL, now=now)
        if count:
            log.warning("%d Slack notification(s) were in flight when a deliverer stopped; "
                        "marked failed (outcome unknown)", count)  # fmt: skip
        return count

    def _claim(self, now: datetime) -> list[ClaimedNotification]:
        with session_scope(self.database_url) as session:
            return claim_due_notifications(
                session=session, channel=CHANNEL, now=now,
                lease=timedelta(seconds=self.settings.claim_lease_s),
                limit=self.settings.deliver_batch,
            )  # fmt: skip

    async def _deliver(self, note: ClaimedNotification, now: datetime) -> NotificationStatus:
        handler = self.kinds.get(note.kind)
        try:
            if handler is None:
                raise UndeliverableError(f"unknown notification kind {note.kind!r}")
            post = await run_in_threadpool(self._render, handler, note)
        except NotReadyError as exc:
            return await self._record_failure(note, Failure(str(exc), retry=True), now)
        except UndeliverableError as exc:
            return await self._record_failure(note, Failure(str(exc), retry=False), now)
        try:
            response = await self.client.chat_postMessage(
                channel=post.channel, text=post.text, blocks=post.blocks,
                thread_ts=post.thread_ts, unfurl_links=False, **post.extra,
            )  # fmt: skip
        except Exception as exc:
            return await self._record_failure(note, classify(exc), now)
        posted = Posted(str(response.get("channel") or post.channel), str(response.get("ts") or ""))
        await self._mark_sent(note, handler, posted)
        return NotificationStatus.sent

    def _render(self, handler: KindHandler, note: ClaimedNotification) -> Post:
        with session_scope(self.database_url) as session:
            return handler.render(session, note)

    async def _mark_sent(
        self, note: ClaimedNotification, handler: KindHandler, posted: Posted
    ) -> None:
        """Record the success; the post is out, so keep trying while the claim lasts."""
        deadline = asyncio.get_running_loop().time() + self.settings.claim_lease_s / 2
        delay = 0.5
        while True:
            try:
                await run_in_threadpool(self._commit_sent, note, handler, posted)
                return
            except Exception:
                if asyncio.get_running_loop().time() > deadline:
                    log.exception(
                        "could not mark Slack notification %d sent; its claim will "
                        "expire and it will be marked failed, never re-sent",
                        note.id,
                    )
                    return  # fmt: skip
                log.warning("marking Slack notification %d sent failed; retrying", note.id)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _commit_sent(self, note: ClaimedNotification, handler: KindHandler, posted: Posted) -> None:
        try:
            with session_scope(self.database_url) as session:
                if mark_notification_sent(session=session, notification_id=note.id, now=utcnow()):
                    handler.after_post(session, note, posted)
        except CrmError as exc:  # e.g. a thread already recorded: the post still happened
            log.error("Slack notification %d posted, but recording it failed: %s", note.id, exc)
            with session_scope(self.database_url) as session:
                mark_notification_sent(session=session, notification_id=note.id, now=utcnow())

    async def _record_failure(
        self, note: ClaimedNotification, failure: Failure, now: datetime
    ) -> NotificationStatus:
        """Schedule the next attempt (`now` + back-off or Slack's Retry-After), or give up."""
        retry_at = None
        if failure.retry and note.attempts < self.settings.max_attempts:
            wait = failure.retry_after_s or backoff_s(note.attempts, self.settings)
            retry_at = now + timedelta(seconds=wait)
        log.warning("Slack notification %d (%s) attempt %d failed: %s; %s", note.id, note.kind,
                    note.attempts, failure.reason,
                    f"retry at {retry_at:%H:%M:%S}" if retry_at else "giving up")  # fmt: skip

        def record() -> NotificationStatus:
            with session_scope(self.database_url) as session:
                return reschedule_notification(
                    session=session, notification_id=note.id, error=failure.reason,
                    retry_at=retry_at,
                )  # fmt: skip

        return await run_in_threadpool(record)

    async def _maybe_prune(self, now: datetime) -> None:
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now

        def prune() -> int:
            with session_scope(self.database_url) as session:
                return prune_slack_events(session=session, older_than=now - RECEIPT_TTL)

        await run_in_threadpool(prune)
