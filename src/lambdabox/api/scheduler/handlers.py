"""EventBridge Scheduler operations: schedule groups, schedules and group tags."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambdabox.api.events.common import compact, page, tag_list, tag_map
from lambdabox.api.scheduler.shapes import group_shape, schedule_request, schedule_shape, schedule_summary
from lambdabox.core.scheduler.models import ScheduleState
from lambdabox.core.scheduler.service import SchedulerService

Handler = Callable[[SchedulerService, dict[str, Any]], dict[str, Any]]


def _paging(params: dict[str, Any]) -> dict[str, Any]:
    """The paging members as the shared page() reads them."""
    return {"NextToken": params.get("NextToken"), "Limit": params.get("MaxResults", 100)}


# -- schedule groups ---------------------------------------------------------------------------------
def create_schedule_group(scheduler: SchedulerService, params: dict[str, Any]) -> dict[str, Any]:
    group = scheduler.create_group(params["Name"], tag_map(params.get("Tags")), params.get("ClientToken"))
    return {"ScheduleGroupArn": scheduler.names.group_arn(group.name)}


def get_schedule_group(scheduler: SchedulerService, params: dict[str, Any]) -> dict[str, Any]:
    return group_shape(scheduler.names, scheduler.group(params["Name"]))


def delete_schedule_group(scheduler: SchedulerService, params: dict[str, Any]) -> dict[str, Any]:
    scheduler.delete_group(params["Name"])
    return {}


def list_schedule_groups(scheduler: SchedulerService, params: dict[str, Any]) -> dict[str, Any]:
    groups = scheduler.list_groups(params.get("NamePrefix"))
    chosen, token = page("ListScheduleGroups", groups, lambda g: g.name, _paging(params))
    return compact({"ScheduleGroups": [group_shape(scheduler.names, g) for g in chosen], "NextToken": token})


# -- tags --------------------------------------------------------------------------------------------
def tag_resource(scheduler: SchedulerService, params: dict[str, Any]) -> dict[str, Any]:
    scheduler.tag(params["ResourceArn"], tag_map(params["Tags"]))
    return {}


def untag_resource(scheduler: SchedulerService, params: dict[str, Any]) -> dict[str, Any]:
    scheduler.tag(params["ResourceArn"], {}, params["TagKeys"])
    return {}


def list_tags_for_resource(scheduler: SchedulerService, params: dict[str, Any]) -> dict[str, Any]:
    return {"Tags": tag_list(scheduler.tags(params["ResourceArn"]))}


# -- schedules ---------------------------------------------------------------------------------------
def create_schedule(scheduler: SchedulerService, params: dict[str, Any]) -> dict[str, Any]:
    return {"ScheduleArn": scheduler.create(schedule_request(params))}


def update_schedule(scheduler: SchedulerService, params: dict[str, Any]) -> dict[str, Any]:
    return {"ScheduleArn": scheduler.update(schedule_request(params))}


def get_schedule(scheduler: SchedulerService, params: dict[str, Any]) -> dict[str, Any]:
    return schedule_shape(scheduler.names, scheduler.schedule(params["Name"], params.get("GroupName")))


def delete_schedule(scheduler: SchedulerService, params: dict[str, Any]) -> dict[str, Any]:
    scheduler.delete(params["Name"], params.get("GroupName"))
    return {}


def list_schedules(scheduler: SchedulerService, params: dict[str, Any]) -> dict[str, Any]:
    state = params.get("State")
    schedules = scheduler.list(
        params.get("GroupName"), params.get("NamePrefix"), None if state is None else ScheduleState(state)
    )
    chosen, token = page("ListSchedules", schedules, lambda s: f"{s.group}/{s.name}", _paging(params))
    return compact({"Schedules": [schedule_summary(scheduler.names, s) for s in chosen], "NextToken": token})


HANDLERS: dict[str, Handler] = {
    "CreateScheduleGroup": create_schedule_group,
    "GetScheduleGroup": get_schedule_group,
    "DeleteScheduleGroup": delete_schedule_group,
    "ListScheduleGroups": list_schedule_groups,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
    "CreateSchedule": create_schedule,
    "UpdateSchedule": update_schedule,
    "GetSchedule": get_schedule,
    "DeleteSchedule": delete_schedule,
    "ListSchedules": list_schedules,
}
