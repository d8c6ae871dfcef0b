"""Many episodes at once: the plan, seeds, concurrency, the manifest, resume; run files."""
