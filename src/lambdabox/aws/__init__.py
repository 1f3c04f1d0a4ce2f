"""Wire protocols shared by every AWS service front end: models, parsing, serialization, signatures."""
