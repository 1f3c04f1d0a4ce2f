"""The CloudWatch Logs front end: json-protocol dispatch around the operation handlers."""

from __future__ import annotations

from collections.abc import Callable

from lambdabox.api.logs import events, groups
from lambdabox.api.logs.common import Ctx, Handler
from lambdabox.aws.json_protocol import JsonProtocol
from lambdabox.aws.model import load_service_model
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core.iam.actions import logs_checks
from lambdabox.core.iam.authorizer import Authorizer
from lambdabox.core.names import Account
from lambdabox.storage.interfaces import LogStore

HANDLERS: dict[str, Handler] = {
    "CreateLogGroup": groups.create_log_group,
    "DeleteLogGroup": groups.delete_log_group,
    "DescribeLogGroups": groups.describe_log_groups,
    "CreateLogStream": groups.create_log_stream,
    "DeleteLogStream": groups.delete_log_stream,
    "DescribeLogStreams": groups.describe_log_streams,
    "PutRetentionPolicy": groups.put_retention_policy,
    "DeleteRetentionPolicy": groups.delete_retention_policy,
    "TagLogGroup": groups.tag_log_group,
    "UntagLogGroup": groups.untag_log_group,
    "ListTagsLogGroup": groups.list_tags_log_group,
    "TagResource": groups.tag_resource,
    "UntagResource": groups.untag_resource,
    "ListTagsForResource": groups.list_tags_for_resource,
    "PutLogEvents": events.put_log_events,
    "GetLogEvents": events.get_log_events,
    "FilterLogEvents": events.filter_log_events,
}


class LogsService:
    """`flush` writes the function logs still buffered in memory to `store`; it runs before every call."""

    def __init__(
        self,
        store: LogStore,
        flush: Callable[[], None],
        account: Account,
        authorizer: Authorizer | None = None,
    ) -> None:
        self._ctx = Ctx(store, account)
        self._flush = flush
        self._authorizer = authorizer  # IAM authorization of every call (None: authentication is off)
        # CloudWatch Logs answers constraint violations as InvalidParameterException.
        self.protocol = JsonProtocol(load_service_model("logs"), validation_code="InvalidParameterException")

    async def handle(self, request: WireRequest) -> WireResponse:
        return self.protocol.answer(
            request,
            HANDLERS,
            self._ctx,
            service="CloudWatch Logs",
            internal_code="ServiceUnavailableException",
            before=self._flush,  # function logs still buffered must be readable
            authorize=None
            if self._authorizer is None
            else self._authorizer.hook(
                request.principal_arn,
                request.client_host,
                "logs",
                lambda operation, params: logs_checks(self._ctx.account, operation, params),
            ),
        )
