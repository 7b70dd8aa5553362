-- Pushes the integrated registry stored but tagstream refused (their pusher may not push there
-- now): taken out of the registry a little later rather than at once, so that a notification
-- queued behind the refused one (a rightful push of the same image, when the registry had a
-- backlog) is read first and the stream holds the image by then. One row per repository, digest
-- and tag ('' for a push by digest alone).
CREATE TABLE registry_refusals (
    repository TEXT NOT NULL,
    digest TEXT NOT NULL,
    tag TEXT NOT NULL,
    -- Unix seconds from which it is taken out (again, after a failed try).
    due INTEGER NOT NULL,
    PRIMARY KEY (repository, digest, tag)
);
CREATE INDEX registry_refusals_due ON registry_refusals (due);
