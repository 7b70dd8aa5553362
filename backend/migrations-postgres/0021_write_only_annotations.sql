-- Client-side `kubectl apply` sends the whole manifest again in the
-- `kubectl.kubernetes.io/last-applied-configuration` annotation, and that copy was stored as it
-- came: a trigger's webhook secret and a user's initial password were readable by every viewer
-- of the object and replayed from the change log (review 18 N1, N2). The server now drops them
-- on every write (`Kind::WRITE_ONLY`); this purges what was stored before, as the SQLite
-- migration 0021 does: the annotation goes from each trigger and user body whose copy names a
-- secret or a password, in `objects` and in `changes`, with the trigger that records updates
-- set aside (the purge is no change of the object).
CREATE TEMP TABLE leaked ON COMMIT DROP AS
    SELECT DISTINCT body, (body::jsonb #- ARRAY['metadata', 'annotations', key])::text AS scrubbed
      FROM (SELECT resource, body FROM objects UNION ALL SELECT resource, body FROM changes) AS b,
           (SELECT 'kubectl.kubernetes.io/last-applied-configuration' AS key) AS k
     WHERE CASE resource
         WHEN 'triggers' THEN (body::jsonb -> 'metadata' -> 'annotations' ->> key) LIKE '%secret%'
         WHEN 'users' THEN (body::jsonb -> 'metadata' -> 'annotations' ->> key) LIKE '%password%'
         ELSE false END;

ALTER TABLE objects DISABLE TRIGGER objects_changed;
UPDATE objects SET body = l.scrubbed FROM leaked l WHERE l.body = objects.body;
ALTER TABLE objects ENABLE TRIGGER objects_changed;
UPDATE changes SET body = l.scrubbed FROM leaked l WHERE l.body = changes.body;
