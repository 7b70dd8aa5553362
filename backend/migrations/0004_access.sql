-- Identity and access. Users and Groups are cluster objects (kind 'User', 'Group' in
-- cluster_objects); what authenticates them lives here, hashed, never in an object body.
CREATE TABLE credentials (
    user            TEXT PRIMARY KEY NOT NULL,
    -- argon2id PHC string; NULL while an invitation is open
    password_hash   TEXT,
    -- SHA-256 (hex) of the one-time invitation token
    invitation_hash TEXT UNIQUE
) STRICT;

CREATE TABLE role_bindings (
    namespace        TEXT NOT NULL REFERENCES projects (name) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    resource_version INTEGER NOT NULL,
    body             TEXT NOT NULL,
    PRIMARY KEY (namespace, name)
) STRICT;

-- API tokens: the SHA-256 (hex) of the secret, never the secret.
CREATE TABLE tokens (
    id      TEXT PRIMARY KEY NOT NULL,
    user    TEXT NOT NULL,
    hash    TEXT NOT NULL UNIQUE,
    expires INTEGER,
    project TEXT,
    body    TEXT NOT NULL
) STRICT;
CREATE INDEX tokens_by_user ON tokens (user);

-- Browser sessions: the SHA-256 (hex) of the cookie's id.
CREATE TABLE sessions (
    hash      TEXT PRIMARY KEY NOT NULL,
    user      TEXT NOT NULL,
    csrf      TEXT NOT NULL,
    created   INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user);

-- Every change: who, when, what, and the resourceVersion before and after.
CREATE TABLE audit_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace TEXT,
    body      TEXT NOT NULL
) STRICT;
CREATE INDEX audit_events_by_namespace ON audit_events (namespace, id);
