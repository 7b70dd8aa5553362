-- One table for every stored kind: a row is one object, keyed by its resource (the plural name
-- the API serves it under, `imagestreams`), its project ('' for a cluster-wide object) and its
-- name, with its resourceVersion and its whole body. A new kind needs no table of its own.
-- Projects keep their own table: they are what a namespaced object's project must name, and
-- deleting one removes everything in it.
CREATE TABLE objects (
    resource         TEXT NOT NULL,
    namespace        TEXT NOT NULL,
    name             TEXT NOT NULL,
    resource_version INTEGER NOT NULL,
    body             TEXT NOT NULL,
    PRIMARY KEY (resource, namespace, name)
) STRICT;
CREATE INDEX objects_by_namespace ON objects (namespace);

-- What must never be in an object's body (a trigger's webhook secret) lives beside it and goes
-- with it.
CREATE TABLE object_secrets (
    resource  TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name      TEXT NOT NULL,
    secret    TEXT NOT NULL,
    PRIMARY KEY (resource, namespace, name),
    FOREIGN KEY (resource, namespace, name)
        REFERENCES objects (resource, namespace, name) ON DELETE CASCADE
) STRICT;

-- Every object of the per-kind tables moves, with its resourceVersion and body unchanged.
INSERT INTO objects (resource, namespace, name, resource_version, body)
    SELECT 'imagestreams', namespace, name, resource_version, body FROM image_streams;
INSERT INTO objects (resource, namespace, name, resource_version, body)
    SELECT 'templates', namespace, name, resource_version, body FROM templates;
INSERT INTO objects (resource, namespace, name, resource_version, body)
    SELECT 'templateinstances', namespace, name, resource_version, body FROM template_instances;
INSERT INTO objects (resource, namespace, name, resource_version, body)
    SELECT 'rolebindings', namespace, name, resource_version, body FROM role_bindings;
INSERT INTO objects (resource, namespace, name, resource_version, body)
    SELECT 'triggers', namespace, name, resource_version, body FROM triggers;
INSERT INTO object_secrets (resource, namespace, name, secret)
    SELECT 'triggers', namespace, name, secret FROM triggers;
INSERT INTO objects (resource, namespace, name, resource_version, body)
    SELECT CASE kind WHEN 'User' THEN 'users' WHEN 'Group' THEN 'groups'
                     WHEN 'Config' THEN 'configs' ELSE lower(kind) || 's' END,
           '', name, resource_version, body
      FROM cluster_objects;

-- Dropping a table drops its triggers; with foreign keys on, its implicit DELETE fires none.
DROP TABLE image_streams;
DROP TABLE templates;
DROP TABLE template_instances;
DROP TABLE role_bindings;
DROP TABLE triggers;
DROP TABLE cluster_objects;

-- A project's objects go with it (as the per-kind tables' ON DELETE CASCADE did), each
-- deletion recorded in `changes` by the triggers below.
CREATE TRIGGER projects_cascade AFTER DELETE ON projects
BEGIN
    DELETE FROM objects WHERE namespace = OLD.name;
END;

-- Every write to an object is a change a watch sees, in the write's own transaction.
CREATE TRIGGER objects_added AFTER INSERT ON objects
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'ADDED', NEW.resource,
            nullif(NEW.namespace, ''), NEW.name, NEW.body);
END;

CREATE TRIGGER objects_modified AFTER UPDATE ON objects
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'MODIFIED', NEW.resource,
            nullif(NEW.namespace, ''), NEW.name, NEW.body);
END;

CREATE TRIGGER objects_deleted AFTER DELETE ON objects
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'DELETED', OLD.resource,
            nullif(OLD.namespace, ''), OLD.name, OLD.body);
END;

-- Changing or removing a binding, a user or a team may take access away: open watches re-check.
CREATE TRIGGER access_objects_updated AFTER UPDATE ON objects
    WHEN NEW.resource IN ('rolebindings', 'users', 'groups')
BEGIN
    UPDATE access_epoch SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER access_objects_deleted AFTER DELETE ON objects
    WHEN OLD.resource IN ('rolebindings', 'users', 'groups')
BEGIN
    UPDATE access_epoch SET value = value + 1 WHERE id = 1;
END;
