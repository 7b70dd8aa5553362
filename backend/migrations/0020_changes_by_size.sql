-- The change log is bounded by size too (review 13 H3): it kept the last 2,000 changes, each a
-- whole object (up to 8 MiB), so one editor rewriting a big stream grew the database by
-- gigabytes. Now it also keeps at most 32 MiB of bodies, pruned whole revisions at a time as
-- before, and a body over 64 KiB prunes at once rather than at the next 200th row. A watch from
-- before the floor is answered 410 Gone, as for the count bound.
DROP TRIGGER changes_prune;
CREATE TRIGGER changes_prune AFTER INSERT ON changes
    WHEN NEW.id % 200 = 0 OR length(CAST(NEW.body AS BLOB)) > 65536
BEGIN
    UPDATE change_floor SET value = max(value, coalesce(
        (SELECT revision FROM changes WHERE id <= NEW.id - 2000 ORDER BY id DESC LIMIT 1), value),
        coalesce((SELECT revision FROM (
            SELECT id, revision, sum(length(CAST(body AS BLOB))) OVER (ORDER BY id DESC) AS kept
            FROM changes) WHERE kept > 33554432 ORDER BY id DESC LIMIT 1), value))
        WHERE id = 1;
    DELETE FROM changes WHERE revision <= (SELECT value FROM change_floor WHERE id = 1);
END;
