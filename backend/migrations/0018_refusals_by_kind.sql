-- A refused push of a digest as a blob and as a manifest are two refusals (review 4 N7): one row
-- each, so that a manifest whose bytes were first uploaded as a blob is taken out as a manifest
-- too, not only its blob link. The pending rows are kept.
CREATE TABLE registry_refusals_by_kind (
    repository TEXT NOT NULL,
    digest TEXT NOT NULL,
    tag TEXT NOT NULL,
    blob INTEGER NOT NULL,
    due INTEGER NOT NULL,
    seen INTEGER NOT NULL DEFAULT 0,
    -- The registry's time of the push (Unix seconds): it is taken out only once the
    -- notifications of pushes 10 s after it were read, or none came for as long (a backlog
    -- must not hide a rightful push of the same image queued behind it).
    pushed INTEGER NOT NULL,
    PRIMARY KEY (repository, digest, tag, blob)
);
INSERT INTO registry_refusals_by_kind (repository, digest, tag, blob, due, seen, pushed)
    SELECT repository, digest, tag, blob, due, seen, due - 10 FROM registry_refusals;
DROP TABLE registry_refusals;
ALTER TABLE registry_refusals_by_kind RENAME TO registry_refusals;
CREATE INDEX registry_refusals_due ON registry_refusals (due);

-- 1 once the registry told of a delete of this digest in this repository (a manifest or a blob
-- link, by its owner or by tagstream) and no push of it passed the pusher's check since: a
-- vouch is for what was pushed, not for what was deleted after (review 4 N6). A refused push of
-- a withdrawn image is taken out even when a stream's history still names it.
ALTER TABLE registry_pushes ADD COLUMN withdrawn INTEGER NOT NULL DEFAULT 0;

-- How far the registry's notifications were read (one row, id 1): the registry's timestamp of
-- the newest push applied, and when tagstream last received an envelope (its own clock).
CREATE TABLE registry_heard (
    id INTEGER PRIMARY KEY,
    newest INTEGER NOT NULL,
    received INTEGER NOT NULL
);
