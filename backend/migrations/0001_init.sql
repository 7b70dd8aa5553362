-- One revision counter for the whole store, like etcd's: every write takes the next value as
-- the written object's resourceVersion, and a list answers the current value.
CREATE TABLE revision (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO revision (id, value) VALUES (1, 0);

CREATE TABLE projects (
    name             TEXT PRIMARY KEY NOT NULL,
    resource_version INTEGER NOT NULL,
    body             TEXT NOT NULL
) STRICT;

CREATE TABLE image_streams (
    namespace        TEXT NOT NULL REFERENCES projects (name) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    resource_version INTEGER NOT NULL,
    body             TEXT NOT NULL,
    PRIMARY KEY (namespace, name)
) STRICT;
