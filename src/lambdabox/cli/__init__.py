"""The `lambdabox` command: thin commands that parse, call, and print."""
