-- Images by digest: what an import learned about one manifest, written once and shared by
-- every tag in every stream that points at it. Content-addressed, so never updated in place.
CREATE TABLE images (
    digest TEXT PRIMARY KEY NOT NULL,
    body   TEXT NOT NULL
) STRICT;
