-- When a tag's failed import is tried next (milliseconds since the epoch; NULL when its last
-- import did not fail). Kept here rather than in the stream's condition message, which used to
-- say it: every retry rewrote the stream (a new resourceVersion, a watch event, a 409 for
-- whoever was editing it). The ImageStreamTag answer adds it to the message when read.
ALTER TABLE tag_checks ADD COLUMN next_try_ms INTEGER;
