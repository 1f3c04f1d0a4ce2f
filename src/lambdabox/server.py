"""Runs the platform in the foreground under uvicorn until SIGINT/SIGTERM."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from collections.abc import Iterator

import uvicorn

from lambdabox.api.http1 import EdgeHttpProtocol
from lambdabox.app import Platform
from lambdabox.config import Settings
from lambdabox.credentials import resolve


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGINT/SIGTERM after a graceful shutdown; a clean stop here exits with 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def serve(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = resolve(settings)
    if root.generated:
        print(
            "Lambdabox generated root credentials (shown once; `lambdabox credentials` prints them again):\n"
            f"  AWS_ACCESS_KEY_ID={root.access_key_id}\n  AWS_SECRET_ACCESS_KEY={root.secret_access_key}",
            file=sys.stderr,
            flush=True,
        )
    platform = Platform(settings, root)
    config = uvicorn.Config(
        platform.asgi,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http=EdgeHttpProtocol.serving(platform.asgi),  # whole requests answered without ASGI
        ws="none",
        proxy_headers=False,  # X-Forwarded-For from a local client must not change its source address
        lifespan="on",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    print(
        f"Lambdabox listening on {settings.endpoint_url} (data in {settings.data_dir})",
        file=sys.stderr,
        flush=True,
    )
    server.run()
