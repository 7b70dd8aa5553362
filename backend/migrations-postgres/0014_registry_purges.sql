-- Repositories of the integrated registry whose images must go because the stream (or the whole
-- project) they belonged to was deleted. A row is written in the delete's own transaction; the
-- purge worker deletes the repository's manifests through the registry's API and removes the
-- row once a pass that began after every registry token issued before the delete had expired
-- succeeded. While a row exists the token server grants nothing on the repository (a row for
-- `project/` stands for every repository of that project), so the next owner of the name never
-- reaches the old images.
CREATE TABLE registry_purges (
    repository TEXT PRIMARY KEY,
    -- JSON array of the digests the stream's history named when it was deleted.
    digests TEXT NOT NULL,
    -- Unix seconds of the (latest) delete.
    created BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt BIGINT NOT NULL,
    last_error TEXT,
    lease_owner TEXT,
    lease_until BIGINT
);
CREATE INDEX registry_purges_due ON registry_purges (next_attempt);
