"""AWS Systems Manager Parameter Store: parameters, versions, labels, hierarchies, SecureString via KMS."""
