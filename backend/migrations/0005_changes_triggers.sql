-- Live updates and triggers.
--
-- `changes`: every write to a watched table, in the same transaction as the write (SQLite
-- triggers below, so that no write path can forget it), with the store's revision at the time.
-- A watch answers the rows after the revision it last saw. Only the last rows are kept:
-- `change_floor` is the newest revision pruned, and a watch from before it is answered 410 Gone.
CREATE TABLE changes (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    revision  INTEGER NOT NULL,
    type      TEXT NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
    resource  TEXT NOT NULL,
    namespace TEXT,
    name      TEXT NOT NULL,
    body      TEXT NOT NULL
) STRICT;
CREATE INDEX changes_by_revision ON changes (revision);

CREATE TABLE change_floor (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO change_floor (id, value) SELECT 1, value FROM revision WHERE id = 1;

-- Keep about the last 2,000 changes (bodies are whole objects, a big stream is a few hundred
-- KB): every 200th row prunes whole revisions older than that.
CREATE TRIGGER changes_prune AFTER INSERT ON changes WHEN NEW.id % 200 = 0
BEGIN
    UPDATE change_floor SET value = max(value, coalesce(
        (SELECT revision FROM changes WHERE id <= NEW.id - 2000 ORDER BY id DESC LIMIT 1), value))
        WHERE id = 1;
    DELETE FROM changes WHERE revision <= (SELECT value FROM change_floor WHERE id = 1);
END;

-- Triggers (webhooks). The secret lives beside the object, never in its body.
CREATE TABLE triggers (
    namespace        TEXT NOT NULL REFERENCES projects (name) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    resource_version INTEGER NOT NULL,
    body             TEXT NOT NULL,
    secret           TEXT NOT NULL,
    PRIMARY KEY (namespace, name)
) STRICT;

-- The outbox: one row per event per trigger, written in the transaction that moved the tag, so
-- an event is delivered at least once even if the server stops right after the change.
CREATE TABLE deliveries (
    id                TEXT PRIMARY KEY NOT NULL,
    namespace         TEXT NOT NULL REFERENCES projects (name) ON DELETE CASCADE,
    trigger           TEXT NOT NULL,
    event_id          TEXT NOT NULL,
    -- the exact bytes sent (and signed)
    body              TEXT NOT NULL,
    phase             TEXT NOT NULL DEFAULT 'Pending',
    attempts          INTEGER NOT NULL DEFAULT 0,
    created           INTEGER NOT NULL,
    next_attempt      INTEGER NOT NULL,
    last_attempt      INTEGER,
    last_status       INTEGER,
    last_latency_ms   INTEGER,
    last_error        TEXT
) STRICT;
CREATE INDEX deliveries_due ON deliveries (phase, next_attempt);
CREATE INDEX deliveries_by_trigger ON deliveries (namespace, trigger, created);

-- A trigger's log keeps its newest 200 finished deliveries; pending ones are never dropped.
CREATE TRIGGER deliveries_prune AFTER INSERT ON deliveries
BEGIN
    DELETE FROM deliveries
    WHERE namespace = NEW.namespace AND trigger = NEW.trigger AND phase != 'Pending'
      AND id NOT IN (SELECT id FROM deliveries WHERE namespace = NEW.namespace
                     AND trigger = NEW.trigger ORDER BY created DESC, rowid DESC LIMIT 200);
END;

-- A project's events page (tagstream.io/v1 Event bodies), newest last.
CREATE TABLE events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace TEXT NOT NULL,
    body      TEXT NOT NULL
) STRICT;
CREATE INDEX events_by_namespace ON events (namespace, id);

-- Keep about the last 20,000 events over all projects.
CREATE TRIGGER events_prune AFTER INSERT ON events WHEN NEW.id % 1000 = 0
BEGIN
    DELETE FROM events WHERE id <= NEW.id - 20000;
END;

CREATE TRIGGER projects_added AFTER INSERT ON projects
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'ADDED', 'projects', NULL, NEW.name, NEW.body);
END;

CREATE TRIGGER projects_modified AFTER UPDATE ON projects
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'MODIFIED', 'projects', NULL, NEW.name, NEW.body);
END;

CREATE TRIGGER projects_deleted AFTER DELETE ON projects
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'DELETED', 'projects', NULL, OLD.name, OLD.body);
END;

CREATE TRIGGER image_streams_added AFTER INSERT ON image_streams
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'ADDED', 'imagestreams', NEW.namespace, NEW.name, NEW.body);
END;

CREATE TRIGGER image_streams_modified AFTER UPDATE ON image_streams
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'MODIFIED', 'imagestreams', NEW.namespace, NEW.name, NEW.body);
END;

CREATE TRIGGER image_streams_deleted AFTER DELETE ON image_streams
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'DELETED', 'imagestreams', OLD.namespace, OLD.name, OLD.body);
END;

CREATE TRIGGER templates_added AFTER INSERT ON templates
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'ADDED', 'templates', NEW.namespace, NEW.name, NEW.body);
END;

CREATE TRIGGER templates_modified AFTER UPDATE ON templates
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'MODIFIED', 'templates', NEW.namespace, NEW.name, NEW.body);
END;

CREATE TRIGGER templates_deleted AFTER DELETE ON templates
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'DELETED', 'templates', OLD.namespace, OLD.name, OLD.body);
END;

CREATE TRIGGER template_instances_added AFTER INSERT ON template_instances
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'ADDED', 'templateinstances', NEW.namespace, NEW.name, NEW.body);
END;

CREATE TRIGGER template_instances_modified AFTER UPDATE ON template_instances
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'MODIFIED', 'templateinstances', NEW.namespace, NEW.name, NEW.body);
END;

CREATE TRIGGER template_instances_deleted AFTER DELETE ON template_instances
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'DELETED', 'templateinstances', OLD.namespace, OLD.name, OLD.body);
END;

CREATE TRIGGER role_bindings_added AFTER INSERT ON role_bindings
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'ADDED', 'rolebindings', NEW.namespace, NEW.name, NEW.body);
END;

CREATE TRIGGER role_bindings_modified AFTER UPDATE ON role_bindings
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'MODIFIED', 'rolebindings', NEW.namespace, NEW.name, NEW.body);
END;

CREATE TRIGGER role_bindings_deleted AFTER DELETE ON role_bindings
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'DELETED', 'rolebindings', OLD.namespace, OLD.name, OLD.body);
END;

CREATE TRIGGER triggers_added AFTER INSERT ON triggers
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'ADDED', 'triggers', NEW.namespace, NEW.name, NEW.body);
END;

CREATE TRIGGER triggers_modified AFTER UPDATE ON triggers
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'MODIFIED', 'triggers', NEW.namespace, NEW.name, NEW.body);
END;

CREATE TRIGGER triggers_deleted AFTER DELETE ON triggers
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'DELETED', 'triggers', OLD.namespace, OLD.name, OLD.body);
END;

CREATE TRIGGER cluster_objects_added AFTER INSERT ON cluster_objects WHEN NEW.kind IN ('User', 'Group')
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'ADDED', lower(NEW.kind) || 's', NULL, NEW.name, NEW.body);
END;

CREATE TRIGGER cluster_objects_modified AFTER UPDATE ON cluster_objects WHEN NEW.kind IN ('User', 'Group')
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'MODIFIED', lower(NEW.kind) || 's', NULL, NEW.name, NEW.body);
END;

CREATE TRIGGER cluster_objects_deleted AFTER DELETE ON cluster_objects WHEN OLD.kind IN ('User', 'Group')
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'DELETED', lower(OLD.kind) || 's', NULL, OLD.name, OLD.body);
END;
