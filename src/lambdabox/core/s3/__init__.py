"""S3-compatible object storage: buckets, objects, listings, tags and event notifications (no HTTP)."""
