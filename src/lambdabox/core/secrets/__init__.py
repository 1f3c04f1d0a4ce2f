"""AWS Secrets Manager: secrets, versions and staging labels, deletion windows, rotation through Lambda."""
