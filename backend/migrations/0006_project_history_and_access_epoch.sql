-- Nothing of a deleted project carries over to a new project of the same name, and open watches
-- notice when access changes.
--
-- `projects.created_revision`: the store revision that created the project. The change log is
-- keyed by project name, so a watch of a project (or across projects) passes on only the rows
-- at or after the creation of the project now bearing that name: `watch&resourceVersion=1`
-- never replays an earlier project's objects. (A project is never updated, so its
-- resourceVersion is its creation revision.)
ALTER TABLE projects ADD COLUMN created_revision INTEGER NOT NULL DEFAULT 0;
UPDATE projects SET created_revision = resource_version;

-- `access_epoch`: bumped inside every transaction that may take access away (bindings, users,
-- teams, tokens, sessions, projects). An open watch re-checks its caller when it moves.
CREATE TABLE access_epoch (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO access_epoch (id, value) VALUES (1, 0);

CREATE TRIGGER access_role_bindings_updated AFTER UPDATE ON role_bindings
BEGIN
    UPDATE access_epoch SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER access_role_bindings_deleted AFTER DELETE ON role_bindings
BEGIN
    UPDATE access_epoch SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER access_cluster_objects_updated AFTER UPDATE ON cluster_objects
    WHEN NEW.kind IN ('User', 'Group')
BEGIN
    UPDATE access_epoch SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER access_cluster_objects_deleted AFTER DELETE ON cluster_objects
    WHEN OLD.kind IN ('User', 'Group')
BEGIN
    UPDATE access_epoch SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER access_tokens_deleted AFTER DELETE ON tokens
BEGIN
    UPDATE access_epoch SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER access_sessions_deleted AFTER DELETE ON sessions
BEGIN
    UPDATE access_epoch SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER access_projects_deleted AFTER DELETE ON projects
BEGIN
    UPDATE access_epoch SET value = value + 1 WHERE id = 1;
END;
