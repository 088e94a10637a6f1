"""Who is asking: the role and identity every scoped query filters on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from crm_store.models.enums import Role

__all__ = ["Role", "Scope"]


class _UserLike(Protocol):
    id: int
    role: Role | str
    team_id: int | None
    contact_id: int | None
    email: str


@dataclass(frozen=True, slots=True)
class Scope:
    """The verified identity behind a request.

    `Scope.anonymous()` (a customer with no user) sees nothing but what the explicit
    order/ticket + email checks reveal.
    """

    role: Role
    user_id: int | None = None
    team_id: int | None = None
    contact_id: int | None = None
    email: str | None = None

    def __post_init__(self) -> None:
        # Accept "rep" as well as Role.rep; reject anything else loudly.
        object.__setattr__(self, "role", Role(self.role))

    @classmethod
    def anonymous(cls) -> Scope:
        """A website visitor who has not signed in: the least privilege."""
        return cls(role=Role.customer)

    @classmethod
    def for_user(cls, user: _UserLike) -> Scope:
        """The scope of a signed-in user."""
        return cls(
            role=Role(user.role),
            user_id=user.id,
            team_id=user.team_id,
            contact_id=user.contact_id,
            email=user.email,
        )

    @property
    def is_anonymous(self) -> bool:
        """True for a visitor without a user account."""
        return self.user_id is None

    @property
    def is_staff(self) -> bool:
        """True for reps, managers, support agents and admins."""
        return self.role is not Role.customer and self.user_id is not None
