"""AWS KMS: symmetric keys (AES-256-GCM), aliases, key states, and the AWS-managed keys of other services."""
