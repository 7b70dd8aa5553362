-- A value typed for a generated parameter of a template instance was stored as it came in the
-- copy of the manifest client-side `kubectl apply` keeps (review 19 P1); the server now masks it
-- there on every write. This purges what was stored before, as the SQLite migration 0022 does:
-- the annotation goes from each instance body whose copy has a generated parameter, in
-- `objects` and in `changes`, with the trigger that records updates set aside.
CREATE TEMP TABLE leaked ON COMMIT DROP AS
    SELECT DISTINCT body, (body::jsonb #- ARRAY['metadata', 'annotations', key])::text AS scrubbed
      FROM (SELECT resource, body FROM objects UNION ALL SELECT resource, body FROM changes) AS b,
           (SELECT 'kubectl.kubernetes.io/last-applied-configuration' AS key) AS k
     WHERE resource = 'templateinstances'
       AND (body::jsonb -> 'metadata' -> 'annotations' ->> key) LIKE '%"generate"%';

ALTER TABLE objects DISABLE TRIGGER objects_changed;
UPDATE objects SET body = l.scrubbed FROM leaked l WHERE l.body = objects.body;
ALTER TABLE objects ENABLE TRIGGER objects_changed;
UPDATE changes SET body = l.scrubbed FROM leaked l WHERE l.body = changes.body;
