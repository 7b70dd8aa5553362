-- The access epoch moves on grants too: a binding, user or team added. Until now it moved only
-- when access could be taken away (what open watches re-check), but the authentication cache
-- (`auth::cache`) also holds what a caller does *not* have (a project's bindings, a user's
-- teams), so a new binding must drop it as well or it would not work on the next request.
-- (Tokens and sessions are looked up by hash: a new one is simply not cached yet, and their
-- deletions already move the epoch, see migration 0006.)
CREATE TRIGGER access_objects_added AFTER INSERT ON objects
    WHEN NEW.resource IN ('rolebindings', 'users', 'groups')
BEGIN
    UPDATE access_epoch SET value = value + 1 WHERE id = 1;
END;
