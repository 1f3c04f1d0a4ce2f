"""API Gateway domain: HTTP APIs and REST APIs, route matching, authorizers and the data plane."""
