-- Key material every replica on one database shares, made once by whichever replica (or
-- `tagstream registry-config`) needs it first: `receivers` (the key the projects' receiver URL
-- secrets are derived from), `registry-token` (the integrated registry's ECDSA P-256 token
-- signing key and its self-signed certificate, PEM) and `registry-notifications` (the secret
-- the registry sends with its notifications). Written once (INSERT ... ON CONFLICT DO NOTHING,
-- then read back), never updated; before this table they were files in DATA_DIR/registry/,
-- imported on the first start that finds them. Never served by any route.
CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
