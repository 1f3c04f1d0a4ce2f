"""IAM: identities (users, groups, roles), policies, credentials; STS sessions live in core/sts.py."""
