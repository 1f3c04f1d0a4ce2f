"""The handler `bootstrap.rehearse` loads: a fork server's pre-forked process runs the runtime's start-up
steps on it once, ahead of its cold start. Never a function's handler."""


def handler(event: object, context: object) -> None:
    return None
