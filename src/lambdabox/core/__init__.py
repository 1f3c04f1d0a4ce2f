"""The domain: functions, versions, aliases, invocations and their rules. No HTTP, no processes."""
