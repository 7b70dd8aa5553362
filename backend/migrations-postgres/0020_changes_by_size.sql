-- The change log is bounded by size too (review 13 H3): it kept the last 2,000 changes, each a
-- whole object (up to 8 MiB), so one editor rewriting a big stream grew the database by
-- gigabytes. Now it also keeps at most 32 MiB of bodies, pruned whole revisions at a time as
-- before, and a body over 64 KiB prunes at once rather than at the next 200th row. A watch from
-- before the floor is answered 410 Gone, as for the count bound.
CREATE OR REPLACE FUNCTION tagstream_changes_prune() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id % 200 = 0 OR octet_length(NEW.body) > 65536 THEN
        UPDATE change_floor SET value = GREATEST(value, coalesce(
            (SELECT revision FROM changes WHERE id <= NEW.id - 2000 ORDER BY id DESC LIMIT 1),
            value), coalesce((SELECT revision FROM (
                SELECT id, revision, sum(octet_length(body)) OVER (ORDER BY id DESC) AS kept
                FROM changes) AS sized WHERE kept > 33554432 ORDER BY id DESC LIMIT 1), value))
            WHERE id = 1;
        DELETE FROM changes WHERE revision <= (SELECT value FROM change_floor WHERE id = 1);
    END IF;
    RETURN NULL;
END $$;
