"""botocore's service models are the contract: load them once per service, with local constraint fixes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.loaders import Loader
from botocore.model import ServiceModel


def load_service_model(
    service: str, constraint_overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> ServiceModel:
    """Load botocore's model for `service`.

    `constraint_overrides` patches shape constraints where the published model is looser than what the
    service actually enforces (e.g. Lambda's MemorySize model max is 32768, the API refuses > 10240).
    """
    raw = Loader().load_service_model(service, "service-2")
    for shape_name, patch in (constraint_overrides or {}).items():
        raw["shapes"][shape_name].update(patch)
    return ServiceModel(raw, service_name=service)
