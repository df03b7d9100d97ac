"""Communications to a dossier's participants: versioned templates, an outbox, delivery by the worker.

Importing this package registers its tables (models). The services load on first use, because queuing
is called from the stepper, which the completion of actions itself imports."""

from designer.models import TemplateVersion

from .models import Channel, Communication, CommunicationStatus

__all__ = ["Channel", "Communication", "CommunicationStatus", "TemplateVersion", "deliver_pending",
           "queue_for_action"]


def __getattr__(name: str):
    if name == "deliver_pending":
        from .delivery import deliver_pending

        return deliver_pending
    if name == "queue_for_action":
        from .outbox import queue_for_action

        return queue_for_action
    raise AttributeError(name)
