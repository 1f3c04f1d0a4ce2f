"""The Amazon EventBridge Scheduler API (rest-json, SigV4 service `scheduler`)."""

from lambdabox.api.scheduler.service import SchedulerApi

__all__ = ["SchedulerApi"]
