"""SimulatePrincipalPolicy and SimulateCustomPolicy: the policy simulator on the platform's engine."""

from __future__ import annotations

from typing import Any

from lambdabox.api.iam.common import IamCall, Output, listing
from lambdabox.core.iam import documents
from lambdabox.core.iam.documents import Kind
from lambdabox.core.iam.policy import principal_of
from lambdabox.core.iam.simulate import Result, Simulation, simulate


def _inputs(params: dict[str, Any], member: str) -> list[dict[str, Any]]:
    return [documents.validate(text, Kind.IDENTITY) for text in params.get(member) or []]


def _context(params: dict[str, Any]) -> dict[str, list[str]]:
    return {
        entry["ContextKeyName"]: list(entry.get("ContextKeyValues") or [])
        for entry in params.get("ContextEntries") or []
    }


def _results(params: dict[str, Any], simulation: Simulation) -> dict[str, Any]:
    results = simulate(simulation, params["ActionNames"], params.get("ResourceArns") or ["*"])
    return listing("EvaluationResults", results, params, _shape)


def _shape(result: Result) -> dict[str, Any]:
    return {
        "EvalActionName": result.action,
        "EvalResourceName": result.resource,
        "EvalDecision": result.decision,
        "MatchedStatements": [],
        "MissingContextValues": [],
    }


def _resource_policy(params: dict[str, Any]) -> dict[str, Any] | None:
    text = params.get("ResourcePolicy")
    return documents.validate(text, Kind.RESOURCE) if text is not None else None


def simulate_principal_policy(call: IamCall, params: dict[str, Any]) -> Output:
    source = params["PolicySourceArn"]
    identity = [document for _, document in call.iam.policies_of_arn(source)] + _inputs(
        params, "PolicyInputList"
    )
    boundary = _inputs(params, "PermissionsBoundaryPolicyInputList")
    if not boundary:
        own = call.iam.boundary_of(source)
        boundary = [own] if own is not None else []
    context = _context(params)
    principal = principal_of(params.get("CallerArn") or source)
    if principal.name is not None and ":user/" in (principal.arn or ""):
        context.setdefault("aws:username", [principal.name])
    context.setdefault("aws:PrincipalArn", [principal.arn or source])
    simulation = Simulation(principal, identity, boundary, _resource_policy(params), context)
    return _results(params, simulation)


def simulate_custom_policy(call: IamCall, params: dict[str, Any]) -> Output:
    caller = params.get("CallerArn") or f"arn:aws:iam::{call.iam.account_id}:user/simulated-caller"
    simulation = Simulation(
        principal_of(caller),
        _inputs(params, "PolicyInputList"),
        _inputs(params, "PermissionsBoundaryPolicyInputList"),
        _resource_policy(params),
        _context(params),
    )
    return _results(params, simulation)
