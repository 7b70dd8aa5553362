-- Client-side `kubectl apply` sends the whole manifest again in the
-- `kubectl.kubernetes.io/last-applied-configuration` annotation, and that copy was stored as it
-- came: a trigger's webhook secret and a user's initial password, which the server otherwise
-- keeps apart or hashed, were readable by every viewer of the object and replayed from the
-- change log (review 18 N1, N2). The server now drops them from the annotation on every write
-- (`Kind::WRITE_ONLY`); this purges what was stored before: the annotation goes from each
-- trigger and user body whose copy names a secret or a password, in `objects` and in `changes`.
-- The next `kubectl apply` of such an object warns that the annotation is missing and writes it
-- again, without the secret. The purge is no change of the object: the trigger that records
-- every update in `changes` is set aside while it runs (and put back as migration 0008 made it).
CREATE TEMP TABLE leaked AS
    SELECT DISTINCT body, json_remove(body, '$.metadata.annotations.' || key) AS scrubbed
      FROM (SELECT resource, body FROM objects UNION ALL SELECT resource, body FROM changes),
           (SELECT '"kubectl.kubernetes.io/last-applied-configuration"' AS key)
     WHERE CASE resource
         WHEN 'triggers' THEN json_extract(body, '$.metadata.annotations.' || key) LIKE '%secret%'
         WHEN 'users' THEN json_extract(body, '$.metadata.annotations.' || key) LIKE '%password%'
         ELSE false END;

DROP TRIGGER objects_modified;
UPDATE objects SET body = (SELECT scrubbed FROM leaked l WHERE l.body = objects.body)
 WHERE body IN (SELECT body FROM leaked);
UPDATE changes SET body = (SELECT scrubbed FROM leaked l WHERE l.body = changes.body)
 WHERE body IN (SELECT body FROM leaked);
DROP TABLE leaked;

CREATE TRIGGER objects_modified AFTER UPDATE ON objects
BEGIN
    INSERT INTO changes (revision, type, resource, namespace, name, body)
    VALUES ((SELECT value FROM revision WHERE id = 1), 'MODIFIED', NEW.resource,
            nullif(NEW.namespace, ''), NEW.name, NEW.body);
END;
