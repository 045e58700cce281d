-- LOWER: which calls to action the ads use, whatever the case they were typed in.
-- SQL Server 2022. PostgreSQL twin: sql/ads/postgres/queries/lower_calls_to_action.sql.
--
-- Question: which calls to action ("Shop now", "SHOP NOW", "shop now " ...) do the live ads use,
-- and how many ads each, counting spellings that differ only in case or surrounding blanks as one?
-- Data: the seeded ads (ads.ads.call_to_action, NVARCHAR), in English and Spanish.
-- What to look at: one row per normalised call to action, most used first. LOWER(TRIM(x)) is the
-- grouping key and the label. Under the database's case-insensitive collation GROUP BY would
-- already merge the variants, but the spelling it shows is whichever row came first: LOWER makes
-- the label deterministic, and the grouping the same under a binary (_BIN2) collation. Never wrap
-- an indexed column in LOWER in a WHERE: the predicate stops being a seek (rely on the collation,
-- or index a persisted computed column).
-- Run: sqlcmd -d PromptAds -i sql/ads/mssql/queries/lower_calls_to_action.sql

SELECT
    LOWER(TRIM(a.call_to_action)) AS call_to_action,
    COUNT_BIG(*) AS ads
FROM ads.ads AS a
WHERE a.deleted_at IS NULL AND a.call_to_action IS NOT NULL
GROUP BY LOWER(TRIM(a.call_to_action))
ORDER BY ads DESC, call_to_action;
