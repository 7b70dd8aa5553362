-- Templates and template instances (template.openshift.io/v1), per project like image streams,
-- and cluster-scoped singletons such as the samples Config (samples.operator.openshift.io/v1).
CREATE TABLE templates (
    namespace        TEXT NOT NULL REFERENCES projects (name) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    resource_version INTEGER NOT NULL,
    body             TEXT NOT NULL,
    PRIMARY KEY (namespace, name)
) STRICT;

CREATE TABLE template_instances (
    namespace        TEXT NOT NULL REFERENCES projects (name) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    resource_version INTEGER NOT NULL,
    body             TEXT NOT NULL,
    PRIMARY KEY (namespace, name)
) STRICT;

CREATE TABLE cluster_objects (
    kind             TEXT NOT NULL,
    name             TEXT NOT NULL,
    resource_version INTEGER NOT NULL,
    body             TEXT NOT NULL,
    PRIMARY KEY (kind, name)
) STRICT;
