"""What the service keeps on disk: the model registry, labels, jobs, tokens,
pools, and the SQLite and atomic-write helpers they share (:mod:`.storage`)."""
