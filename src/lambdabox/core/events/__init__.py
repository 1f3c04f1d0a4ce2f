"""Amazon EventBridge: event buses, rules, targets, event patterns and schedules (no HTTP)."""
