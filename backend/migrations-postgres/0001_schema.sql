-- The PostgreSQL schema: the SQLite schema as it stands after its migration 0008 (see
-- ../migrations for why each table is as it is), in PostgreSQL's dialect. Differences: 64-bit
-- integers throughout, `"user"` quoted (a reserved word), a `seq` column where SQLite's code
-- orders by rowid, trigger bodies in PL/pgSQL, a NOTIFY that wakes the other replicas, and
-- lease columns for background work that replicas share. Names sort bytewise (COLLATE "C"),
-- as SQLite sorts them, whatever the database's locale.

CREATE TABLE revision (
    id    BIGINT PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO revision (id, value) VALUES (1, 0);

CREATE TABLE projects (
    name             TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    resource_version BIGINT NOT NULL,
    body             TEXT NOT NULL,
    created_revision BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE images (
    digest TEXT PRIMARY KEY NOT NULL,
    body   TEXT NOT NULL
);

CREATE TABLE objects (
    resource         TEXT NOT NULL,
    namespace        TEXT COLLATE "C" NOT NULL,
    name             TEXT COLLATE "C" NOT NULL,
    resource_version BIGINT NOT NULL,
    body             TEXT NOT NULL,
    PRIMARY KEY (resource, namespace, name)
);
CREATE INDEX objects_by_namespace ON objects (namespace);

CREATE TABLE object_secrets (
    resource  TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name      TEXT NOT NULL,
    secret    TEXT NOT NULL,
    PRIMARY KEY (resource, namespace, name),
    FOREIGN KEY (resource, namespace, name)
        REFERENCES objects (resource, namespace, name) ON DELETE CASCADE
);

CREATE TABLE credentials (
    "user"             TEXT PRIMARY KEY NOT NULL,
    password_hash      TEXT,
    invitation_hash    TEXT UNIQUE,
    invitation_expires BIGINT
);

CREATE TABLE tokens (
    seq     BIGSERIAL,
    id      TEXT PRIMARY KEY NOT NULL,
    "user"  TEXT NOT NULL,
    hash    TEXT NOT NULL UNIQUE,
    expires BIGINT,
    project TEXT,
    body    TEXT NOT NULL
);
CREATE INDEX tokens_by_user ON tokens ("user");

CREATE TABLE sessions (
    hash      TEXT PRIMARY KEY NOT NULL,
    "user"    TEXT NOT NULL,
    csrf      TEXT NOT NULL,
    created   BIGINT NOT NULL,
    last_seen BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions ("user");

CREATE TABLE audit_events (
    id        BIGSERIAL PRIMARY KEY,
    namespace TEXT,
    body      TEXT NOT NULL
);
CREATE INDEX audit_events_by_namespace ON audit_events (namespace, id);

-- The change log. Its ids are taken while the writer holds the `revision` row lock, so they
-- are in commit order on every replica.
CREATE TABLE changes (
    id        BIGSERIAL PRIMARY KEY,
    revision  BIGINT NOT NULL,
    type      TEXT NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
    resource  TEXT NOT NULL,
    namespace TEXT,
    name      TEXT NOT NULL,
    body      TEXT NOT NULL
);
CREATE INDEX changes_by_revision ON changes (revision);

CREATE TABLE change_floor (
    id    BIGINT PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO change_floor (id, value) VALUES (1, 0);

CREATE TABLE access_epoch (
    id    BIGINT PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO access_epoch (id, value) VALUES (1, 0);

-- The outbox. `lease_owner`/`lease_until` (unix seconds): the replica sending it now; another
-- takes it only after the lease runs out (its sender died).
CREATE TABLE deliveries (
    seq               BIGSERIAL,
    id                TEXT PRIMARY KEY NOT NULL,
    namespace         TEXT NOT NULL REFERENCES projects (name) ON DELETE CASCADE,
    trigger           TEXT NOT NULL,
    event_id          TEXT NOT NULL,
    body              TEXT NOT NULL,
    phase             TEXT NOT NULL DEFAULT 'Pending',
    attempts          BIGINT NOT NULL DEFAULT 0,
    created           BIGINT NOT NULL,
    next_attempt      BIGINT NOT NULL,
    last_attempt      BIGINT,
    last_status       BIGINT,
    last_latency_ms   BIGINT,
    last_error        TEXT,
    lease_owner       TEXT,
    lease_until       BIGINT
);
CREATE INDEX deliveries_due ON deliveries (phase, next_attempt);
CREATE INDEX deliveries_by_trigger ON deliveries (namespace, trigger, created);

CREATE TABLE events (
    id        BIGSERIAL PRIMARY KEY,
    namespace TEXT NOT NULL,
    body      TEXT NOT NULL
);
CREATE INDEX events_by_namespace ON events (namespace, id);

-- Background work shared by replicas (scheduled checks, retried imports, samples): one row per
-- job, claimed by `UPDATE ... WHERE lease_until < now ... FOR UPDATE SKIP LOCKED`.
CREATE TABLE leases (
    job         TEXT PRIMARY KEY NOT NULL,
    owner       TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0,
    done_at     BIGINT NOT NULL DEFAULT 0
);

-- Trigger functions: what SQLite's triggers do, and a NOTIFY (delivered at commit) that wakes
-- watches and senders on every replica.
CREATE FUNCTION tagstream_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tagstream_changes', '');
    RETURN NULL;
END $$;

CREATE TRIGGER changes_notify AFTER INSERT ON changes
    FOR EACH STATEMENT EXECUTE FUNCTION tagstream_notify();
CREATE TRIGGER deliveries_notify AFTER INSERT ON deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION tagstream_notify();

CREATE FUNCTION tagstream_changes_prune() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id % 200 = 0 THEN
        UPDATE change_floor SET value = GREATEST(value, coalesce(
            (SELECT revision FROM changes WHERE id <= NEW.id - 2000 ORDER BY id DESC LIMIT 1),
            value)) WHERE id = 1;
        DELETE FROM changes WHERE revision <= (SELECT value FROM change_floor WHERE id = 1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER changes_prune AFTER INSERT ON changes
    FOR EACH ROW EXECUTE FUNCTION tagstream_changes_prune();

CREATE FUNCTION tagstream_deliveries_prune() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM deliveries
    WHERE namespace = NEW.namespace AND trigger = NEW.trigger AND phase != 'Pending'
      AND id NOT IN (SELECT id FROM deliveries WHERE namespace = NEW.namespace
                     AND trigger = NEW.trigger ORDER BY created DESC, seq DESC LIMIT 200);
    RETURN NULL;
END $$;
CREATE TRIGGER deliveries_prune AFTER INSERT ON deliveries
    FOR EACH ROW EXECUTE FUNCTION tagstream_deliveries_prune();

CREATE FUNCTION tagstream_events_prune() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id % 1000 = 0 THEN
        DELETE FROM events WHERE id <= NEW.id - 20000;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER events_prune AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION tagstream_events_prune();

CREATE FUNCTION tagstream_access_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE access_epoch SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END $$;

CREATE FUNCTION tagstream_projects_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM objects WHERE namespace = OLD.name;
        INSERT INTO changes (revision, type, resource, namespace, name, body)
        VALUES ((SELECT value FROM revision WHERE id = 1), 'DELETED', 'projects', NULL,
                OLD.name, OLD.body);
        UPDATE access_epoch SET value = value + 1 WHERE id = 1;
    ELSE
        INSERT INTO changes (revision, type, resource, namespace, name, body)
        VALUES ((SELECT value FROM revision WHERE id = 1),
                CASE TG_OP WHEN 'INSERT' THEN 'ADDED' ELSE 'MODIFIED' END, 'projects', NULL,
                NEW.name, NEW.body);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER projects_changed AFTER INSERT OR UPDATE OR DELETE ON projects
    FOR EACH ROW EXECUTE FUNCTION tagstream_projects_changed();

CREATE FUNCTION tagstream_objects_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO changes (revision, type, resource, namespace, name, body)
        VALUES ((SELECT value FROM revision WHERE id = 1), 'DELETED', OLD.resource,
                nullif(OLD.namespace, ''), OLD.name, OLD.body);
        IF OLD.resource IN ('rolebindings', 'users', 'groups') THEN
            UPDATE access_epoch SET value = value + 1 WHERE id = 1;
        END IF;
    ELSE
        INSERT INTO changes (revision, type, resource, namespace, name, body)
        VALUES ((SELECT value FROM revision WHERE id = 1),
                CASE TG_OP WHEN 'INSERT' THEN 'ADDED' ELSE 'MODIFIED' END, NEW.resource,
                nullif(NEW.namespace, ''), NEW.name, NEW.body);
        IF TG_OP = 'UPDATE' AND NEW.resource IN ('rolebindings', 'users', 'groups') THEN
            UPDATE access_epoch SET value = value + 1 WHERE id = 1;
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER objects_changed AFTER INSERT OR UPDATE OR DELETE ON objects
    FOR EACH ROW EXECUTE FUNCTION tagstream_objects_changed();

CREATE TRIGGER access_tokens_deleted AFTER DELETE ON tokens
    FOR EACH ROW EXECUTE FUNCTION tagstream_access_moved();
CREATE TRIGGER access_sessions_deleted AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION tagstream_access_moved();
