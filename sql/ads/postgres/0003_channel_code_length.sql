-- PromptAds (schema ads), migration 0003: one-character channel codes.
-- PostgreSQL twin of sql/ads/mssql/0003_channel_code_length.sql.
--
-- X (formerly Twitter) is known everywhere by the code `x`; 0001 required at least two
-- characters. The rule otherwise stays: a lowercase letter first, then lowercase letters, digits
-- or underscores, 40 characters at most. Every existing code satisfies the wider rule, so the new
-- constraint is validated at once.

ALTER TABLE ads.channels DROP CONSTRAINT channels_code_check;

ALTER TABLE ads.channels
ADD CONSTRAINT channels_code_check CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$');
