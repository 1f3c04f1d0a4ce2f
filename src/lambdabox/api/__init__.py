"""Front ends: one package per AWS service, plus the Runtime API that execution environments poll."""
