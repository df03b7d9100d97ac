"""Who does something: a user, or the system with its cause (timer, event, sequence)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: int | None = None
    is_partner: bool = False
    cause: str | None = None  # for the system: "timer", "event", "sequence", "worker"...

    @property
    def label(self) -> str:
        return f"user:{self.user_id}" if self.user_id is not None else f"system:{self.cause or 'system'}"

    @property
    def is_system(self) -> bool:
        return self.user_id is None


def system(cause: str) -> Actor:
    return Actor(cause=cause)
