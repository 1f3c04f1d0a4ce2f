"""Language runtimes bundled with Lambdabox (one sub-package per language)."""
