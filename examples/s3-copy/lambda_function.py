"""Copies every object uploaded to the source bucket into the destination bucket (AWS's S3-trigger
tutorial, with a copy instead of a print). Runs unchanged on AWS Lambda and on Lambdabox."""

import os
import urllib.parse

import boto3

s3 = boto3.client("s3")
DESTINATION = os.environ["DESTINATION_BUCKET"]


def lambda_handler(event, context):
    record = event["Records"][0]
    bucket = record["s3"]["bucket"]["name"]
    key = urllib.parse.unquote_plus(record["s3"]["object"]["key"], encoding="utf-8")
    source = s3.get_object(Bucket=bucket, Key=key)
    s3.put_object(
        Bucket=DESTINATION,
        Key=key,
        Body=source["Body"].read(),
        ContentType=source["ContentType"],
    )
    print(f"copied s3://{bucket}/{key} to s3://{DESTINATION}/{key} ({source['ContentType']})")
    return {"copied": key}
