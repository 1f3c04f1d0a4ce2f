"""The composition root: builds every component from the settings and wires them together."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from lambdabox import __version__
from lambdabox.api.edge import Edge
from lambdabox.api.events import EventsApi, SchedulerHook
from lambdabox.api.internal import InternalApi
from lambdabox.api.lambda_.context import LambdaDeps
from lambdabox.api.lambda_.service import LambdaService
from lambdabox.api.logs import LogsService
from lambdabox.api.s3 import DEFAULT_ROOTS, Addressing, S3Api, S3Deps
from lambdabox.api.s3.auth import S3Auth
from lambdabox.aws.sigv2 import V2Verifier
from lambdabox.aws.sigv4 import Verifier
from lambdabox.config import Settings
from lambdabox.core.aliases import AliasService
from lambdabox.core.async_invoke import AsyncInvoker
from lambdabox.core.clock import Clock
from lambdabox.core.code_source import S3CodeSource
from lambdabox.core.concurrency import ConcurrencyLimiter
from lambdabox.core.destinations import Destinations
from lambdabox.core.events.delivery import Dispatcher
from lambdabox.core.events.names import EventsNames
from lambdabox.core.events.scheduler import Scheduler
from lambdabox.core.events.service import EventsService
from lambdabox.core.function_settings import FunctionSettings
from lambdabox.core.functions import FunctionService
from lambdabox.core.identity import StaticCredentialStore
from lambdabox.core.invoke import InvokeService
from lambdabox.core.names import Account
from lambdabox.core.provisioned import ProvisionedConcurrency
from lambdabox.core.s3.buckets import BucketService
from lambdabox.core.s3.multipart import MultipartService
from lambdabox.core.s3.notifications import Notifier
from lambdabox.core.s3.objects import ObjectService
from lambdabox.credentials import RootCredentials
from lambdabox.execution.isolation import Isolation
from lambdabox.execution.pool import EnvironmentPool
from lambdabox.execution.sandbox import ForkingSandbox, ProcessSandbox
from lambdabox.execution.variables import Credentials, EnvironmentFactory
from lambdabox.execution.zygote import Zygote
from lambdabox.observability.logs import LogSink
from lambdabox.runtimes.registry import RuntimeRegistry, interpreter_mapping
from lambdabox.storage.cached import CachingFunctionStore
from lambdabox.storage.code import FileCodeStore
from lambdabox.storage.events_sqlite import SqliteEventsStore
from lambdabox.storage.s3_sqlite import SqliteObjectStore
from lambdabox.storage.s3_uploads import SqliteUploadStore
from lambdabox.storage.sqlite import Database, SqliteEventQueue, SqliteFunctionStore, SqliteLogStore

log = logging.getLogger("lambdabox")


class Platform:
    """Everything one Lambdabox server runs. Built synchronously; `start`/`stop` run on the event loop."""

    def __init__(self, settings: Settings, root: RootCredentials) -> None:
        self.settings = settings
        self.root = root
        data = settings.data_dir
        data.mkdir(parents=True, exist_ok=True)
        self.account = Account(settings.account_id, settings.region)
        # Who may sign requests: today the root credentials; IAM users, roles and sessions come later.
        self.credentials = StaticCredentialStore.root(
            settings.account_id, root.access_key_id, root.secret_access_key
        )
        self.verifier = Verifier(self.credentials, settings.region) if settings.auth else None
        self.db = Database(data / "lambdabox.db")
        self.function_store = CachingFunctionStore(SqliteFunctionStore(self.db))
        self.code = FileCodeStore(data / "code")
        self.queue = SqliteEventQueue(self.db)
        self.log_store = SqliteLogStore(self.db)
        self.sink = LogSink(self.log_store)
        self.registry = RuntimeRegistry(settings.python_executable, data / "runtime")
        self.limiter = ConcurrencyLimiter(settings.account_concurrency)
        # Namespaces, cgroups, an unprivileged user and seccomp for every environment, as far as this
        # machine allows (probed here; what is missing is logged once and shown in /_lambdabox/health).
        self.isolation = Isolation.create(
            enabled=settings.isolation,
            data_dir=data,
            code_dir=data / "code",
            needed=self.registry.read_paths(),
        )
        self.zygote = Zygote(
            settings.python_executable, self.registry.zygote_env(data / "runtime" / "home"), self.isolation
        )
        self.functions = FunctionService(
            self.function_store, self.code, self.account, defer=self._defer, on_change=self._function_changed
        )
        self.aliases = AliasService(self.functions, self.function_store, self._sync_provisioned)
        self.function_settings = FunctionSettings(self.functions, self.function_store, self.limiter)
        self.pool = EnvironmentPool(
            EnvironmentFactory(
                self.registry,
                self.code,
                data / "tmp",
                settings.region,
                settings.endpoint_url,
                Credentials(root.access_key_id, root.secret_access_key),
                self.isolation,
            ),
            ForkingSandbox(self.zygote, ProcessSandbox(self.isolation)),
            self.sink,
            settings.idle_timeout,
            settings.freeze_delay,
        )
        self.invoker = InvokeService(self.functions, self.limiter, self.pool, self.queue, self._wake_async)
        self.provisioned = ProvisionedConcurrency(self.functions, self.function_store, self.limiter, self.pool)
        self.async_invoker: AsyncInvoker | None = None
        self.object_store = SqliteObjectStore(self.db, data / "objects")
        self.s3_notifier = Notifier(self.object_store, self.function_settings, self.invoker, self.account)
        self.objects = ObjectService(self.object_store, self.s3_notifier.on_change)
        self.s3_api = S3Api(
            S3Deps(
                self.account,
                BucketService(self.object_store, settings.region),
                self.objects,
                self.s3_notifier,
                MultipartService(
                    SqliteUploadStore(self.db, self.object_store), self.objects, self.s3_notifier.on_change
                ),
            ),
            Addressing((*DEFAULT_ROOTS, settings.advertised_host)),
            S3Auth(self.verifier, V2Verifier(self.credentials), self._bucket_region)
            if self.verifier is not None
            else None,
        )
        self.lambda_api = LambdaService(
            LambdaDeps(
                self.account,
                self.functions,
                self.aliases,
                self.function_settings,
                self.invoker,
                S3CodeSource(self.objects),
                self.provisioned,
            )
        )
        # EventBridge: rules and targets, PutEvents routing, and the scheduler, all on one clock.
        self.clock = Clock(settings.clock_offset)
        events_store = SqliteEventsStore(self.db)
        events_names = EventsNames(self.account)
        self.event_targets = Dispatcher(events_names, self.function_settings, self.invoker, self.clock)
        self.scheduler = Scheduler(
            events_store, self.event_targets, events_names, self.clock, settings.scheduler_tick
        )
        self.events = EventsService(
            events_store, self.event_targets, events_names, self.clock, self._wake_scheduler
        )
        scheduler_hook = SchedulerHook(self.scheduler, self.clock, enabled=settings.test_hooks)
        self.internal_api = InternalApi(
            self.functions, self.code, self.health, routes={"/_lambdabox/scheduler": scheduler_hook.handle}
        )
        self.asgi = Edge(
            {
                "lambda": self.lambda_api,
                "logs": LogsService(self.log_store, self.sink.flush, self.account),
                "events": EventsApi(self.events),
            },
            self.internal_api,
            self.start,
            self.stop,
            streaming={"s3": self.s3_api},
            default_service="s3",
            verifier=self.verifier,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = False
        self._started_at = time.time()

    # -- wiring callbacks ------------------------------------------------------------------------------
    def _defer(self, work: Any) -> None:
        """Run `work` soon on the event loop (state transitions AWS performs asynchronously)."""
        loop = self._loop
        if loop is None:
            work()
        else:
            loop.call_soon_threadsafe(work)

    def _function_changed(self, name: str) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.pool.retire, name)
        self._sync_provisioned(name)
        if self.function_store.get_function(name) is None:
            self.limiter.set_reserved(name, None)

    def _sync_provisioned(self, name: str) -> None:
        """A function, version or alias changed: provisioned environments follow the configuration."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.provisioned.sync, name)

    def _bucket_region(self, name: str) -> str | None:
        bucket = self.object_store.get_bucket(name)
        return bucket.region if bucket is not None else None

    def _wake_async(self) -> None:
        """Called after an event is queued, from the loop or from a worker thread."""
        if self.async_invoker is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self.async_invoker.wake)

    def _wake_scheduler(self) -> None:
        """Called after a rule's schedule changes: the scheduler recomputes when to wake."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.scheduler.wake)

    # -- lifecycle -------------------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if not self.settings.auth:
            log.warning(
                "LAMBDABOX_AUTH=off: request signatures are NOT checked; anyone who can reach "
                "%s can call every API. Use this only for development.",
                self.settings.endpoint_url,
            )
        self.registry.prepare()
        await self.zygote.start()
        self.pool.start()
        self.provisioned.sync()
        self.async_invoker = AsyncInvoker(
            self.queue,
            self.functions,
            self.function_settings,
            self.invoker,
            self.settings.async_retry_delays,
            flush_logs=self.sink.flush,
            destinations=Destinations(self.invoker, self.account, self.events.route),
        )
        self.async_invoker.start()
        self.scheduler.start()
        self._ready = True

    async def stop(self) -> None:
        self._ready = False
        await self.scheduler.stop()
        if self.async_invoker is not None:
            await self.async_invoker.stop()
        await self.pool.shutdown()
        self.zygote.stop()
        self.isolation.close()
        self.sink.flush()
        self.db.close()

    def health(self) -> dict[str, Any]:
        return {
            "status": "ready" if self._ready else "starting",
            "version": __version__,
            "endpoint": self.settings.endpoint_url,
            "region": self.settings.region,
            "accountId": self.settings.account_id,
            "auth": "on" if self.settings.auth else "off",
            "services": ["events", "lambda", "logs", "s3"],
            "pythonRuntimes": interpreter_mapping(),
            "environments": len(self.pool.environments()),
            "eventTargets": {
                "invocations": self.event_targets.stats.invocations,
                "failedInvocations": self.event_targets.stats.failed,
            },
            "isolation": self.isolation.status(),
            "uptimeSeconds": round(time.time() - self._started_at, 3),
        }
