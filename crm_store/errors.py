"""Errors the store raises for bad input; callers turn them into 4xx or polite replies."""

from __future__ import annotations


class CrmError(Exception):
    """Base class of the store's expected errors."""


class InvalidInputError(CrmError, ValueError):
    """The caller passed something malformed (bad email, unknown role, empty subject)."""


class NotFoundError(CrmError, LookupError):
    """The record does not exist or the scope may not see it (indistinguishable on purpose)."""


class PermissionDeniedError(CrmError, PermissionError):
    """The role may never do this (e.g. a customer logging a sales activity)."""


class ConflictError(CrmError):
    """The record is in a state that forbids this change (e.g. a handoff another agent claimed)."""
