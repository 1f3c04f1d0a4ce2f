"""IAM's policy simulator (SimulatePrincipalPolicy, SimulateCustomPolicy) on the platform's policy engine:
each action on each resource is decided exactly as a real request would be (`core/iam/policy.py`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambdabox.core.iam.policy import Decision, Principal, Request, compile_policy, evaluate

DECISIONS = {
    Decision.ALLOW: "allowed",
    Decision.EXPLICIT_DENY: "explicitDeny",
    Decision.IMPLICIT_DENY: "implicitDeny",
}


@dataclass(frozen=True)
class Simulation:
    principal: Principal
    identity: Sequence[Mapping[str, Any]]  # identity-based policy documents
    boundary: Sequence[Mapping[str, Any]] = ()  # permissions boundary documents (all must allow)
    resource_policy: Mapping[str, Any] | None = None
    context: Mapping[str, Sequence[str]] | None = None  # condition keys, any case


@dataclass(frozen=True)
class Result:
    action: str
    resource: str
    decision: str  # allowed | explicitDeny | implicitDeny


def simulate(simulation: Simulation, actions: Sequence[str], resources: Sequence[str]) -> list[Result]:
    identity = [compile_policy(dict(document)) for document in simulation.identity]
    boundaries = [compile_policy(dict(document)) for document in simulation.boundary]
    resource = compile_policy(dict(simulation.resource_policy)) if simulation.resource_policy else None
    keys = {key.lower(): list(values) for key, values in (simulation.context or {}).items()}
    results = []
    for action in actions:
        for arn in resources or ["*"]:
            request = Request(simulation.principal, action, arn, keys)
            outcome = evaluate(request, identity, resource)
            for boundary in boundaries:
                if outcome.allowed:
                    outcome = evaluate(request, identity, resource, boundary=boundary)
            results.append(Result(action, arn, DECISIONS[outcome.decision]))
    return results
