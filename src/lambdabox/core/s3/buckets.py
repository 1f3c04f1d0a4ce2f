"""Buckets: create (AWS naming rules), list, delete when empty, tags, notification configuration,
versioning state."""

from __future__ import annotations

import time
from dataclasses import replace

from lambdabox.core.s3.bucket_policy import check_policy
from lambdabox.core.s3.cors import CorsRule
from lambdabox.core.s3.errors import no_such_bucket
from lambdabox.core.s3.models import Bucket, NotificationConfiguration
from lambdabox.core.s3.names import check_bucket_name
from lambdabox.errors import AwsError
from lambdabox.storage.interfaces import ObjectStore

# Regions S3 accepts as a LocationConstraint (us-east-1 is expressed by leaving it out).
REGIONS = frozenset(
    [
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "cn-north-1",
        "cn-northwest-1",
        "EU",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-2",
        "us-gov-east-1",
        "us-gov-west-1",
        "us-west-1",
        "us-west-2",
    ]
)


class BucketService:
    def __init__(self, store: ObjectStore, region: str) -> None:
        self._store = store
        self._region = region

    def get(self, name: str) -> Bucket:
        bucket = self._store.get_bucket(name)
        if bucket is None:
            raise no_such_bucket(name)
        return bucket

    def list(self) -> list[Bucket]:
        return self._store.list_buckets()

    def create(self, name: str, location_constraint: str | None) -> Bucket:
        check_bucket_name(name)
        if location_constraint is not None and (
            location_constraint == "us-east-1" or location_constraint not in REGIONS
        ):
            raise AwsError(
                "InvalidLocationConstraint",
                "The specified location-constraint is not valid",
                400,
                fields={"LocationConstraint": location_constraint},
            )
        if location_constraint is None and self._region != "us-east-1":
            location_constraint = self._region
        region = location_constraint or "us-east-1"
        if region == "EU":
            region = "eu-west-1"
        bucket = Bucket(
            name=name, created=round(time.time(), 3), region=region, location_constraint=location_constraint
        )
        if not self._store.create_bucket(bucket):
            raise AwsError(
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already own it.",
                409,
                fields={"BucketName": name},
            )
        return bucket

    def delete(self, name: str) -> None:
        def check(bucket: Bucket | None, empty: bool) -> None:
            if bucket is None:
                raise no_such_bucket(name)
            if not empty:
                raise AwsError(
                    "BucketNotEmpty",
                    "The bucket you tried to delete is not empty",
                    409,
                    fields={"BucketName": name},
                )

        self._store.delete_bucket(name, check)

    def _update(self, name: str, **changes: object) -> Bucket:
        def change(bucket: Bucket | None) -> Bucket:
            if bucket is None:
                raise no_such_bucket(name)
            return replace(bucket, **changes)  # type: ignore[arg-type]

        return self._store.update_bucket(name, change)

    # -- tags ------------------------------------------------------------------------------------------
    def tags(self, name: str) -> dict[str, str]:
        tags = self.get(name).tags
        if tags is None:
            raise AwsError("NoSuchTagSet", "The TagSet does not exist", 404, fields={"BucketName": name})
        return tags

    def set_tags(self, name: str, tags: dict[str, str] | None) -> None:
        self._update(name, tags=tags)

    # -- notification configuration (validated by the notifier) ----------------------------------------
    def set_notifications(self, name: str, config: NotificationConfiguration) -> None:
        self._update(name, notifications=config)

    # -- versioning (core/s3/versions.py) --------------------------------------------------------------
    def set_versioning(self, name: str, status: str) -> None:
        """Status "Enabled" or "Suspended": a versioned bucket never goes back to unversioned."""
        self._update(name, versioning=status)

    # -- CORS (rules validated by core/s3/cors.py) -----------------------------------------------------
    def cors(self, name: str) -> tuple[CorsRule, ...]:
        rules = self.get(name).cors
        if rules is None:
            raise AwsError(
                "NoSuchCORSConfiguration",
                "The CORS configuration does not exist",
                404,
                fields={"BucketName": name},
            )
        return rules

    def set_cors(self, name: str, rules: tuple[CorsRule, ...] | None) -> None:
        self._update(name, cors=rules)

    # -- bucket policy (stored; IAM policy evaluation enforces it) -------------------------------------
    def policy(self, name: str) -> str:
        text = self.get(name).policy
        if text is None:
            raise AwsError(
                "NoSuchBucketPolicy", "The bucket policy does not exist", 404, fields={"BucketName": name}
            )
        return text

    def set_policy(self, name: str, text: str | None) -> None:
        self.get(name)
        if text is not None:
            check_policy(text, name)
        self._update(name, policy=text)
