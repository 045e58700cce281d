-- PromptAds (schema ads), migration 0003: one-character channel codes.
-- SQL Server 2022. PostgreSQL twin: sql/ads/postgres/0003_channel_code_length.sql.
--
-- X (formerly Twitter) is known everywhere by the code `x`; 0001 required at least two
-- characters. The rule otherwise stays: a lowercase letter first, then lowercase letters, digits
-- or underscores, 40 characters at most. WITH CHECK validates the existing rows, so the constraint
-- stays trusted by the optimiser.

ALTER TABLE ads.channels DROP CONSTRAINT channels_code_check;
GO

ALTER TABLE ads.channels WITH CHECK
ADD CONSTRAINT channels_code_check
CHECK (LEN(code) BETWEEN 1 AND 40
       AND code COLLATE Latin1_General_100_BIN2 LIKE '[a-z]%'
       AND code COLLATE Latin1_General_100_BIN2 NOT LIKE '%[^a-z0-9_]%');
GO
