-- Invitations expire (`[auth] invitation_seconds`, 7 days by default): unix seconds after which
-- the invitation no longer sets a password. Open invitations made before this get 7 days from now.
ALTER TABLE credentials ADD COLUMN invitation_expires INTEGER;
UPDATE credentials
   SET invitation_expires = CAST(strftime('%s', 'now') AS INTEGER) + 7 * 24 * 3600
 WHERE invitation_hash IS NOT NULL;
