-- Every manifest the integrated registry told tagstream was pushed (its notifications), by
-- repository and digest, whether or not a tag named it and whether or not its stream's purge
-- was pending: the purge of a deleted stream or project deletes each of them from the
-- registry, not only what the stream's tags and history still name, and removes the rows it
-- deleted. One row per repository and digest (a push of the same manifest again only counts
-- in `pushes`), so the rows of a repository are never more than the manifests the registry
-- stores for it; they stay until a purge deletes their manifest.
CREATE TABLE registry_pushes (
    repository TEXT NOT NULL,
    digest TEXT NOT NULL,
    -- The project part of `repository`: a project's purge takes every repository under it.
    project TEXT NOT NULL,
    -- Notifications of this push so far: the purge forgets a row only if no push of the
    -- digest was heard after it read the row (the manifest may be back).
    pushes BIGINT NOT NULL DEFAULT 1,
    -- Unix seconds of the first notification.
    first_pushed BIGINT NOT NULL,
    PRIMARY KEY (repository, digest)
);
CREATE INDEX registry_pushes_project ON registry_pushes (project);
