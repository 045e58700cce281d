-- LTRIM: the budget line of the weekly e-mail, from a fixed-width number format.
-- PostgreSQL twin of sql/ads/mssql/queries/ltrim_budget_line.sql.
--
-- Question: what does each active campaign's budget line read in the weekly e-mail ("USD
-- 12345.00"), newest campaign first?
-- Data: the seeded active campaigns (ads.campaigns, budget numeric(14,2)).
-- What to look at: budget_text has no leading blanks. to_char with a digit pattern pads on the
-- left to the pattern's width (plus one place for the sign), as T-SQL's STR does, so the padding
-- is trimmed with ltrim: the classic format-then-trim idiom. (to_char's FM prefix would also drop
-- it; ltrim is shown because it is the portable half of the idiom.)
-- Run: psql "$ADS_URL" -f sql/ads/postgres/queries/ltrim_budget_line.sql

SELECT c.id AS campaign_id,
       c.name AS campaign,
       to_char(c.budget, '999999999990.00') AS budget_padded,
       c.currency || ' ' || ltrim(to_char(c.budget, '999999999990.00')) AS budget_text
FROM ads.campaigns c
WHERE c.deleted_at IS NULL AND c.status = 'active'
ORDER BY c.starts_at DESC, c.id;
