"""Lambda layers: published, numbered, immutable versions of a zip that functions extract under /opt.

`models.py` holds the `LayerVersion` record, `store.py` the storage contract (SQLite:
storage/layers_sqlite.py), `service.py` publishing, reading, listing, deleting, each version's resource
policy, and the check of the layer version ARNs a function names, resolved to the content it runs with.
"""
