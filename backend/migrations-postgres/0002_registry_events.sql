-- Push events already applied, by where they came from (the integrated registry, or a
-- project's receiver) and the sender's event id: a registry retries a delivery it thinks
-- failed, and the same event must not move a tag twice. Rows older than a week are pruned.
CREATE TABLE registry_events (
    source TEXT NOT NULL,
    id TEXT NOT NULL,
    received BIGINT NOT NULL,
    PRIMARY KEY (source, id)
);
CREATE INDEX registry_events_received ON registry_events (received);
