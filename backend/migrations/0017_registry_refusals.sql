-- Pushes (manifests and blobs) the integrated registry stored but tagstream refused (their
-- pusher may not push there now): taken out of the registry a little later rather than at once,
-- so that a notification queued behind the refused one (a rightful push of the same image, when
-- the registry had a backlog) is read first and the stream holds the image by then. One row per
-- repository, digest and tag ('' for a push by digest alone, or a blob).
CREATE TABLE registry_refusals (
    repository TEXT NOT NULL,
    digest TEXT NOT NULL,
    tag TEXT NOT NULL,
    -- 1 for a blob pushed or mounted (its link goes unless a manifest uses it), 0 a manifest.
    blob INTEGER NOT NULL,
    -- Unix seconds from which it is taken out (again, after a failed try).
    due INTEGER NOT NULL,
    -- Notifications of the same push since the first: a pusher pushing it again does not put
    -- its taking out off, and a row is forgotten only if none came while it was taken out.
    seen INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (repository, digest, tag)
);
CREATE INDEX registry_refusals_due ON registry_refusals (due);

-- 1 once a push of this digest passed the pusher's check (someone who may push there stored
-- it): a refused push of the same digest then takes nothing out, and a refused blob that such a
-- manifest uses stays (a multi-platform image's manifests are pushed by digest before the list
-- that names them).
ALTER TABLE registry_pushes ADD COLUMN vouched INTEGER NOT NULL DEFAULT 0;
