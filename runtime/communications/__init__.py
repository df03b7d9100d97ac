"""Communications to a dossier's participants: versioned templates, the outbox a run's step fills, the
channels and letters the worker sends them through. Importing this package registers its tables (models).

This package sits below the step (runtime.stepper queues a send task's messages); what sends them and ends
their actions, above the actions, is runtime.delivery and runtime.communication_ends."""

from designer.models import TemplateVersion

from .models import Channel, Communication, CommunicationStatus

__all__ = ["Channel", "Communication", "CommunicationStatus", "TemplateVersion"]
