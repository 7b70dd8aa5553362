-- As SQLite's migration 0011: the access epoch moves on grants too (a binding, user or team
-- added), so the authentication cache drops what a caller did not have. And a move of the epoch
-- wakes the other replicas (the NOTIFY the change log sends): a token or session deleted there
-- writes no change row, yet their open watches must re-check their callers at once.
CREATE TRIGGER access_objects_added AFTER INSERT ON objects
    FOR EACH ROW WHEN (NEW.resource IN ('rolebindings', 'users', 'groups'))
    EXECUTE FUNCTION tagstream_access_moved();

CREATE TRIGGER access_epoch_notify AFTER UPDATE ON access_epoch
    FOR EACH STATEMENT EXECUTE FUNCTION tagstream_notify();
