"""Lambdabox: a self-hosted serverless platform that behaves like AWS Lambda."""

__version__ = "0.1.0"
