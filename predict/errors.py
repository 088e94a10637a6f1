"""Errors of the prediction service; each message names what a person must fix."""

from __future__ import annotations


class PredictError(Exception):
    """Base class: every error here is safe to show to an operator as is."""


class InputDataError(PredictError, ValueError):
    """Input data is unusable: missing column, wrong type, empty file.

    Attributes:
        column: the offending column, or None when the problem is the whole file.
    """

    def __init__(self, message: str, column: str | None = None) -> None:
        super().__init__(message)
        self.column = column


class SchemaMismatchError(PredictError):
    """The store no longer provides the inputs a trained model was built on."""


class ModelNotFoundError(PredictError, LookupError):
    """No trained model of that name (or version) exists in the registry."""


class UntrustedModelError(PredictError):
    """A model file holds types we did not allow; it is refused, never loaded."""


class NotScorableError(PredictError):
    """The account exists but lacks the inputs the model needs (e.g. no subscription)."""
