-- What a refused push's take-out deleted from a repository, held for a while (review 8 C4): a
-- rightful push made before the delete may use it (its client skipped a layer the registry had),
-- and its notification may come after. A blob is held by a link in tagstream's own holding
-- repository, a manifest by its bytes here; a rightful push that turns out to use one puts it
-- back; and once the registry told of the delete (its notifications are sent in order, so every
-- push made before the delete was told of by then), the hold is let go.
CREATE TABLE registry_held (
    repository TEXT NOT NULL,
    digest TEXT NOT NULL,
    -- 1 for a blob (its link is in the holding repository), 0 for a manifest (its bytes below).
    blob INTEGER NOT NULL,
    manifest BLOB,
    media_type TEXT NOT NULL DEFAULT '',
    -- tagstream's time of the delete (Unix seconds).
    deleted INTEGER NOT NULL,
    -- 1 once put back in the repository.
    restored INTEGER NOT NULL DEFAULT 0,
    -- When the registry's notification of the delete came (tagstream's clock), 0 until it did.
    heard INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (repository, digest, blob)
);
CREATE INDEX registry_held_deleted ON registry_held (deleted);
CREATE INDEX registry_held_heard ON registry_held (heard);
