-- A value typed for a generated parameter of a template instance stands in for a generated
-- secret: reads mask it (`*****`), but the copy of the manifest client-side `kubectl apply`
-- keeps in `kubectl.kubernetes.io/last-applied-configuration` was stored as it came, readable
-- by every viewer and replayed from the change log (review 19 P1). The server now masks it
-- there on every write; this purges what was stored before, as 0021 does for triggers and
-- users: the annotation goes from each instance body whose copy has a generated parameter, in
-- `objects` and in `changes`, with the trigger that records updates set aside.
CREATE TEMP TABLE leaked AS
    SELECT DISTINCT body, json_remove(body, '$.metadata.annotations.' || key) AS scrubbed
      FROM (SELECT resource, body FROM objects UNION ALL SELECT resource, body FROM changes),
           (SELECT '"kubectl.kubernetes.io/last-applied-configuration"' AS key)
     WHERE resource = 'templateinstances'
       AND json_extract(body, '$.metadata.annotations.' || key) LIKE '%"generate"%';

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
