"""The AWS Lambda control API (rest-json, botocore's `lambda` model)."""
