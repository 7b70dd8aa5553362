-- When the import worker last asked the registry about a tag (milliseconds since the epoch): shown
-- as the ImageStreamTag's tagstream.io/last-checked by every replica, and read by a replica
-- that takes the import worker over, so that it keeps the schedule instead of starting afresh.
-- Not part of the change log: a check that finds nothing new writes no revision.
CREATE TABLE tag_checks (
    namespace TEXT NOT NULL,
    stream TEXT NOT NULL,
    tag TEXT NOT NULL,
    checked_ms INTEGER NOT NULL,
    PRIMARY KEY (namespace, stream, tag)
);
