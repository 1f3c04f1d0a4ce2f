"""Amazon EventBridge Scheduler: schedule groups, schedules, their timing and their delivery
(`docs/scheduler.md`). The fires themselves run on the shared scheduler loop (`core/events/scheduler.py`)."""
