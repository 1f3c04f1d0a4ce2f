"""The composition root: builds every component from the settings and wires them together."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from lambdabox import __version__
from lambdabox.api.apigateway import ApiGatewayControl, ExecuteApi, fetch_json
from lambdabox.api.edge import Edge
from lambdabox.api.events import EventsApi, SchedulerHook
from lambdabox.api.function_urls import FunctionUrlApi, UrlDeps
from lambdabox.api.iam import IamApi
from lambdabox.api.internal import InternalApi
from lambdabox.api.kms import KmsApi
from lambdabox.api.lambda_.context import LambdaDeps
from lambdabox.api.lambda_.service import LambdaService
from lambdabox.api.logs import LogsService
from lambdabox.api.s3 import DEFAULT_ROOTS, Addressing, S3Api, S3Deps
from lambdabox.api.s3.auth import S3Auth
from lambdabox.api.scheduler import SchedulerApi
from lambdabox.api.secretsmanager import SecretsManagerApi
from lambdabox.api.secretsmanager.common import SecretsDeps
from lambdabox.api.ssm import SsmApi
from lambdabox.api.sts import StsApi
from lambdabox.aws.sigv2 import V2Verifier
from lambdabox.aws.sigv4 import Verifier
from lambdabox.config import Settings
from lambdabox.core.aliases import AliasService
from lambdabox.core.apigateway.gateway import Gateway
from lambdabox.core.apigateway.http_apis import HttpApiService
from lambdabox.core.apigateway.jwt import JwtValidator
from lambdabox.core.apigateway.names import GatewayNames
from lambdabox.core.apigateway.rest_apis import RestApiService
from lambdabox.core.apigateway.rest_models import RestModelService
from lambdabox.core.apigateway.usage_plans import UsageGate, UsagePlanService
from lambdabox.core.async_invoke import AsyncInvoker
from lambdabox.core.clock import Clock
from lambdabox.core.code_signing import CodeSigning
from lambdabox.core.code_source import S3CodeSource
from lambdabox.core.concurrency import ConcurrencyLimiter
from lambdabox.core.destinations import Destinations
from lambdabox.core.events.delivery import Dispatcher
from lambdabox.core.events.names import EventsNames
from lambdabox.core.events.scheduler import Scheduler
from lambdabox.core.events.service import EventsService
from lambdabox.core.function_configs import FunctionConfigs
from lambdabox.core.function_settings import FunctionSettings
from lambdabox.core.function_urls import FunctionUrls
from lambdabox.core.functions import FunctionService
from lambdabox.core.iam.authorizer import Authorizer, ResourcePolicies
from lambdabox.core.iam.credentials import IamCredentialStore
from lambdabox.core.iam.managed import load_aws_managed
from lambdabox.core.iam.service import IamService
from lambdabox.core.identity import AccessKey, root_arn
from lambdabox.core.invoke import InvokeService
from lambdabox.core.kms.lambda_keys import LambdaKeys
from lambdabox.core.kms.service import KmsService
from lambdabox.core.layers.service import LayerService
from lambdabox.core.models import CodeRef, FunctionVersion
from lambdabox.core.names import Account
from lambdabox.core.parameters.service import ParameterService
from lambdabox.core.provisioned import ProvisionedConcurrency
from lambdabox.core.s3.buckets import BucketService
from lambdabox.core.s3.multipart import MultipartService
from lambdabox.core.s3.notifications import Notifier
from lambdabox.core.s3.objects import ObjectService
from lambdabox.core.scheduler.firing import ScheduleFires
from lambdabox.core.scheduler.names import SchedulerNames
from lambdabox.core.scheduler.service import SchedulerService
from lambdabox.core.scheduler.targets import ScheduleDelivery
from lambdabox.core.secrets.rotation import Rotator
from lambdabox.core.secrets.service import SecretsService
from lambdabox.core.sts import RoleSessions, Sts
from lambdabox.credentials import RootCredentials
from lambdabox.errors import AwsError
from lambdabox.execution.admission import Admission, default_reserve_mb
from lambdabox.execution.isolation import Isolation
from lambdabox.execution.pool import EnvironmentPool
from lambdabox.execution.sandbox import ForkingSandbox, ProcessSandbox
from lambdabox.execution.snapshots import Snapshots
from lambdabox.execution.variables import Credentials, EnvironmentFactory
from lambdabox.execution.zygote import Zygotes
from lambdabox.observability.logs import LogSink
from lambdabox.runtimes.registry import PYTHON_RUNTIMES, RuntimeRegistry
from lambdabox.storage import sealing
from lambdabox.storage.apigateway_sqlite import SqliteApiGatewayStore
from lambdabox.storage.cached import CachingFunctionStore
from lambdabox.storage.code import FileCodeStore
from lambdabox.storage.events_sqlite import SqliteEventsStore
from lambdabox.storage.iam_sqlite import SqliteIamStore
from lambdabox.storage.kms_sqlite import SqliteKmsStore
from lambdabox.storage.lambda_configs_sqlite import SqliteLambdaConfigStore
from lambdabox.storage.layers_sqlite import SqliteLayerStore
from lambdabox.storage.logs_sqlite import SqliteLogStore
from lambdabox.storage.parameters_sqlite import SqliteParameterStore
from lambdabox.storage.s3_sqlite import SqliteObjectStore
from lambdabox.storage.s3_uploads import SqliteUploadStore
from lambdabox.storage.scheduler_sqlite import SqliteSchedulerStore
from lambdabox.storage.sealed_functions import SealingFunctionStore
from lambdabox.storage.secrets_sqlite import SqliteSecretsStore
from lambdabox.storage.sqlite import Database, SqliteEventQueue, SqliteFunctionStore
from lambdabox.storage.urls_sqlite import SqliteUrlStore

log = logging.getLogger("lambdabox")
LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
# Lifetime asked for an execution environment's role session (STS caps it at the role's maximum).
ROLE_SESSION_SECONDS = 12 * 3600


class Platform:
    """Everything one Lambdabox server runs. Built synchronously; `start`/`stop` run on the event loop."""

    def __init__(self, settings: Settings, root: RootCredentials) -> None:
        self.settings = settings
        self.root = root
        data = settings.data_dir
        data.mkdir(parents=True, exist_ok=True)
        self.account = Account(settings.account_id, settings.region)
        self.clock = Clock(settings.clock_offset)
        self.db = Database(data / "lambdabox.db")
        # Secrets in the database are sealed with a master key kept outside it (docs/security.md).
        master = sealing.load(self.db, data, settings.master_key, settings.master_key_file)
        # Who may sign requests: the root credentials, IAM users' active access keys and STS sessions.
        iam_store = SqliteIamStore(self.db, master)
        root_key = AccessKey(
            root.access_key_id, root.secret_access_key, root_arn(settings.account_id), settings.account_id
        )
        self.credentials = IamCredentialStore(root_key, iam_store, self.clock)
        self.iam = IamService(
            iam_store, settings.account_id, self.clock, load_aws_managed(), self.credentials.forget
        )
        self.sts = Sts(self.iam, iam_store, self.clock)
        # Environments of one function share a session of its role (renewed at half its lifetime), as on AWS.
        self.role_sessions = RoleSessions(self.sts, self.clock, ROLE_SESSION_SECONDS)
        self.verifier = Verifier(self.credentials, settings.region) if settings.auth else None
        # KMS keys live in this database; functions' environment variables are sealed with them at rest.
        self.kms = KmsService(SqliteKmsStore(self.db, master), self.account, self.clock)
        self.lambda_keys = LambdaKeys(self.kms)
        self.function_store = CachingFunctionStore(
            SealingFunctionStore(SqliteFunctionStore(self.db), self.lambda_keys)
        )
        self.code = FileCodeStore(data / "code")
        # Layers: versions in SQLite, their zips in the code store, each function's /opt merged from them.
        self.layers = LayerService(SqliteLayerStore(self.db), self.code, self.account)
        self.queue = SqliteEventQueue(self.db)
        self.log_store = SqliteLogStore(self.db)
        self.sink = LogSink(self.log_store)
        # Each python3.x runtime on Python 3.x when this machine has it, else on the platform's interpreter.
        self.registry = RuntimeRegistry.for_settings(settings, data / "runtime", os.environ)
        self.limiter = ConcurrencyLimiter(settings.account_concurrency)
        # Namespaces, cgroups, an unprivileged user and seccomp for every environment, as far as this
        # machine allows (probed here; what is missing is logged once and shown in /_lambdabox/health).
        self.isolation = Isolation.create(
            enabled=settings.isolation,
            data_dir=data,
            code_dir=data / "code",
            needed=self.registry.read_paths(),
        )
        home = data / "runtime" / "home"
        self.zygotes = Zygotes(
            self.registry.fallback.executable,
            lambda python: self.registry.zygote_env(home, python),
            self.isolation,
        )
        environments = EnvironmentFactory(
            self.registry,
            self.code,
            data / "tmp",
            settings.region,
            settings.endpoint_url,
            self._role_credentials,  # each environment signs as its function's execution role
            self.isolation,
        )
        sandbox = ForkingSandbox(self.zygotes, ProcessSandbox(self.isolation))
        # SnapStart: published versions initialize once; their environments are forks of that snapshot.
        self.snapshots = Snapshots(environments, sandbox, self.sink, self.isolation)
        self.functions = FunctionService(
            self.function_store,
            self.code,
            self.account,
            defer=self._defer,
            on_change=self._function_changed,
            prepare_runtime=self._prepare_runtime,
            role_assumable=lambda role: self.iam.role_trusts_service(role, LAMBDA_PRINCIPAL),
            environment_keys=self.lambda_keys,
            snapshots=self.snapshots,
            layers=self.layers,
        )
        self.aliases = AliasService(self.functions, self.function_store, self._sync_provisioned)
        self.function_settings = FunctionSettings(self.functions, self.function_store, self.limiter)
        # Code signing configurations (every code deployment checked), runtime management, recursion.
        lambda_configs = SqliteLambdaConfigStore(self.db)
        self.code_signing = CodeSigning(lambda_configs, self.functions, self.account)
        self.functions.code_verifier = self.code_signing
        self.function_configs = FunctionConfigs(lambda_configs, self.functions)
        # Never more environments than the host's memory allows (see execution/admission.py).
        self.admission = Admission(
            settings.memory_reserve_mb if settings.memory_reserve_mb is not None else default_reserve_mb(),
            settings.max_environments,
        )
        self.pool = EnvironmentPool(
            environments,
            sandbox,
            self.sink,
            settings.idle_timeout,
            settings.freeze_delay,
            self.admission,
            settings.admission_wait,
            self.snapshots,
            clock=self.clock.now,
        )
        self.invoker = InvokeService(self.functions, self.limiter, self.pool, self.queue, self._wake_async)
        self.provisioned = ProvisionedConcurrency(
            self.functions, self.function_store, self.limiter, self.pool
        )
        self.async_invoker: AsyncInvoker | None = None
        self.object_store = SqliteObjectStore(self.db, data / "objects")
        self.s3_notifier = Notifier(self.object_store, self.function_settings, self.invoker, self.account)
        self.objects = ObjectService(self.object_store, self.s3_notifier.on_change)
        # IAM authorization of every API call (identity, session, bucket and function policies); off with
        # authentication (LAMBDABOX_AUTH=off).
        self.authorizer = (
            Authorizer(
                settings.account_id,
                settings.region,
                self.iam,
                ResourcePolicies(
                    function=self.function_settings.statements,
                    bucket=self._bucket_policy,
                    function_tags=lambda name: self.function_settings.tags(name, None),
                    object_tags=self._object_tags,
                ),
                now=self.clock.now,
                tags=self.iam.principal_tags,
                user_id=lambda arn: self.sts.caller_identity(arn).user_id,
            )
            if settings.auth
            else None
        )
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
            self.authorizer,
        )
        # Function URLs: configurations in their own table, served on this port by host name or path.
        self.function_urls = FunctionUrls(
            SqliteUrlStore(self.db),
            self.functions,
            lambda url_id: f"http://{url_id}.lambda-url.{settings.region}.localhost:{settings.port}/",
        )
        self.function_url_api = FunctionUrlApi(
            UrlDeps(
                self.account,
                self.function_urls,
                self.functions,
                self.function_settings,
                self.invoker,
                self.verifier,
                root_arn(settings.account_id),
                self.authorizer,
            )
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
                function_urls=self.function_urls,
                layers=self.layers,
                code_signing=self.code_signing,
                function_configs=self.function_configs,
            ),
            self.authorizer,
        )
        # EventBridge: rules and targets, PutEvents routing, and the scheduler, all on one clock.
        events_store = SqliteEventsStore(self.db)
        events_names = EventsNames(self.account)
        self.event_targets = Dispatcher(events_names, self.function_settings, self.invoker, self.clock)
        self.scheduler = Scheduler(
            events_store, self.event_targets, events_names, self.clock, settings.scheduler_tick
        )
        self.events = EventsService(
            events_store, self.event_targets, events_names, self.clock, self._wake_scheduler
        )
        # EventBridge Scheduler: its schedules fire from the same durable scheduler loop as the rules.
        scheduler_names = SchedulerNames(self.account)
        scheduler_store = SqliteSchedulerStore(self.db)
        self.schedules = SchedulerService(scheduler_store, scheduler_names, self.clock, self._wake_scheduler)
        self.scheduler.add_source(
            ScheduleFires(
                scheduler_store,
                ScheduleDelivery(self.account, self.invoker, self.events.put_events, self.authorizer),
                scheduler_names,
            )
        )
        scheduler_hook = SchedulerHook(self.scheduler, self.clock, enabled=settings.test_hooks)
        # API Gateway: HTTP and REST API control planes; their Lambda proxy data plane on this port.
        apigateway_store = SqliteApiGatewayStore(self.db)
        gateway_names = GatewayNames(self.account, settings.port)
        usage_plans = UsagePlanService(apigateway_store)
        rest_apis = RestApiService(apigateway_store, gateway_names)
        self.apigateway_api = ApiGatewayControl(
            HttpApiService(apigateway_store, gateway_names),
            rest_apis,
            usage_plans,
            RestModelService(apigateway_store, rest_apis.get_api),
            self.authorizer,
        )
        self.execute_api = ExecuteApi(
            Gateway(
                apigateway_store,
                gateway_names,
                self.invoker,
                self.function_settings,
                JwtValidator(fetch_json),
                UsageGate(usage_plans),
                self.authorizer,
            ),
            self.verifier,
            AccessKey("", "", root_arn(settings.account_id), settings.account_id),
        )
        # Secrets Manager (rotation through Lambda) and Parameter Store, their values encrypted with KMS.
        self.secrets = SecretsService(SqliteSecretsStore(self.db), self.kms, self.account, self.clock)
        self.rotator = Rotator(self.secrets, self.invoker, self.function_settings)
        self.parameters = ParameterService(
            SqliteParameterStore(self.db), self.kms, self.account, self.clock, self.secrets
        )
        self.internal_api = InternalApi(
            self.functions,
            self.code,
            self.health,
            routes={"/_lambdabox/scheduler": scheduler_hook.handle},
            layers=self.layers,
        )
        self.asgi = Edge(
            {
                "lambda": self.lambda_api,
                "logs": LogsService(self.log_store, self.sink.flush, self.account, self.authorizer),
                "events": EventsApi(self.events, self.authorizer),
                "scheduler": SchedulerApi(self.schedules, self.authorizer),
                "iam": IamApi(self.iam, self.credentials, self.authorizer),
                "sts": StsApi(self.sts),
                "apigateway": self.apigateway_api,
                "kms": KmsApi(self.kms, self.authorizer),
                "secretsmanager": SecretsManagerApi(SecretsDeps(self.secrets, self.rotator), self.authorizer),
                "ssm": SsmApi(self.parameters, self.authorizer),
            },
            self.internal_api,
            self.start,
            self.stop,
            streaming={"s3": self.s3_api},
            planes={"lambda-url": self.function_url_api, "execute-api": self.execute_api},
            default_service="s3",
            verifier=self.verifier,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = False
        self._code_collector: asyncio.Task[None] | None = None
        self._started_at = time.time()

    # -- wiring callbacks ------------------------------------------------------------------------------
    def _defer(self, work: Any) -> None:
        """Run `work` soon on the event loop (state transitions AWS performs asynchronously)."""
        loop = self._loop
        if loop is None:
            work()
        else:
            loop.call_soon_threadsafe(work)

    def _prepare_runtime(self, runtime: str, done: Callable[[], None]) -> None:
        """A Python runtime's zygote is started before its function turns Active (and, at start, for every
        runtime in use), so that no first cold start waits for an interpreter to start."""
        if runtime in PYTHON_RUNTIMES and self._loop is not None:
            self.zygotes.prepare(self.registry.interpreter(runtime).executable, done)
        else:
            done()

    def _runtimes_in_use(self) -> set[str]:
        return {version.runtime for version in self.functions.list_latest(all_versions=True)}

    def _function_changed(self, name: str) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.pool.retire, name)
            self._loop.call_soon_threadsafe(self.snapshots.retire, name, self._version_exists)
        self._sync_provisioned(name)
        self.function_configs.function_changed(name)
        if self.function_store.get_function(name) is None:
            self.limiter.set_reserved(name, None)
            self.function_urls.function_deleted(name)

    def _version_exists(self, version: FunctionVersion) -> bool:
        return self.function_store.get_version(version.name, version.version) is not None

    def _sync_provisioned(self, name: str) -> None:
        """A function, version or alias changed: provisioned environments follow the configuration."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.provisioned.sync, name)

    def _role_credentials(self, version: FunctionVersion) -> Credentials:
        """A fresh session of the function's execution role, named after the function (as Lambda names it)."""
        try:
            session = self.role_sessions.credentials(version.role, version.name)
        except AwsError:
            raise AwsError(
                "InvalidParameterValueException",
                "The role defined for the function cannot be assumed by Lambda.",
            ) from None
        return Credentials(
            session.access_key_id, session.secret_access_key, session.session_token, session.expiration
        )

    def _object_tags(self, bucket: str, key: str, version: str | None) -> dict[str, str]:
        found = (
            self.object_store.get_version(bucket, key, version)
            if version
            else self.object_store.get_object(bucket, key)
        )
        return dict(found.tags) if found is not None else {}

    def _bucket_policy(self, name: str) -> str | None:
        bucket = self.object_store.get_bucket(name)
        return bucket.policy if bucket is not None else None

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
    def _code_in_use(self) -> tuple[list[CodeRef], list[list[CodeRef]]]:
        """The packages function versions, layer versions, running environments and SnapStart templates
        use, and the layer combinations of those versions and environments."""
        versions = [
            *self.functions.list_latest(all_versions=True),
            *(env.version for env in self.pool.environments()),
            *self.snapshots.versions(),
        ]
        layer_sets = [[layer.code for layer in version.layers] for version in versions]
        live = [version.code for version in versions] + [c for codes in layer_sets for c in codes]
        return live + self.layers.contents(), layer_sets

    def _collect_code(self) -> None:
        """Packages nothing uses any more (replaced, deleted, or written by a request that never committed)
        leave the code store at start, before anything runs."""
        try:
            self.code.collect(*self._code_in_use())
        except Exception:  # keeping garbage loses nothing; not starting would
            log.exception("could not collect unused code packages; they stay until the next start")

    async def _collect_code_forever(self) -> None:
        """While running, every `code_gc_interval` seconds: what nothing uses and nobody wrote or reused
        for that long (a request between writing a package and committing its version is never that slow)."""
        interval = self.settings.code_gc_interval
        while True:
            await asyncio.sleep(interval)
            try:
                live, layer_sets = self._code_in_use()
                removed = await asyncio.to_thread(self.code.collect, live, layer_sets, idle_for=interval)
            except Exception:
                log.exception("could not collect unused code packages; trying again in %s s", interval)
            else:
                if removed:
                    log.info("removed %d unused code packages and layer trees", removed)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if not self.settings.auth:
            log.warning(
                "LAMBDABOX_AUTH=off: request signatures are NOT checked and IAM policies are NOT "
                "enforced; anyone who can reach %s can call every API. Use this only for development.",
                self.settings.endpoint_url,
            )
        self.registry.prepare()
        self.db.checkpoint_in_background()
        self._collect_code()
        await self.zygotes.start()
        elsewhere = self.registry.without_own_interpreter()
        if elsewhere:
            log.warning(
                "no Python interpreter of their own version for %s (none found, or one the bundled boto3 "
                "does not support): they run on Python %s; see LAMBDABOX_PYTHONS",
                ", ".join(elsewhere),
                self.registry.fallback.version,
            )
        for runtime in self._runtimes_in_use():  # their zygotes start in the background
            self._prepare_runtime(runtime, lambda: None)
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
        self.rotator.start()  # Secrets Manager's automatic rotations (RotationRules)
        self._code_collector = asyncio.get_running_loop().create_task(self._collect_code_forever())
        # What exists now lives as long as the platform: kept out of the cyclic collector's scans, so that
        # a full collection (run in the event loop, between requests) walks only what came after (~65,000
        # objects less: ~40 ms). No collection first: it would find ~70 objects of garbage, for those 40 ms.
        gc.freeze()
        self._ready = True

    async def stop(self) -> None:
        self._ready = False
        if self._code_collector is not None:
            self._code_collector.cancel()
        await self.scheduler.stop()
        await self.rotator.stop()
        if self.async_invoker is not None:
            await self.async_invoker.stop()
        self.snapshots.shutdown()
        await self.pool.shutdown()
        self.zygotes.stop()
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
            "services": [
                "apigateway",
                "events",
                "iam",
                "kms",
                "lambda",
                "logs",
                "s3",
                "scheduler",
                "secretsmanager",
                "ssm",
                "sts",
            ],
            "zygotes": self.zygotes.status(),
            "pythonRuntimes": {
                runtime: interpreter.version
                for runtime, interpreter in self.registry.python_runtimes().items()
            },
            "environments": len(self.pool.environments()),
            "admission": self.admission.status(),
            "coldStarts": dict(self.pool.cold_starts),
            "eventTargets": {
                "invocations": self.event_targets.stats.invocations,
                "failedInvocations": self.event_targets.stats.failed,
            },
            "isolation": self.isolation.status(),
            "uptimeSeconds": round(time.time() - self._started_at, 3),
        }
