"""The Amazon EventBridge API (json protocol, target prefix `AWSEvents`) and its scheduler hook."""

from lambdabox.api.events.hooks import SchedulerHook
from lambdabox.api.events.service import EventsApi

__all__ = ["EventsApi", "SchedulerHook"]
