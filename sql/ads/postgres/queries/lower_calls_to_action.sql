-- LOWER: which calls to action the ads use, whatever the case they were typed in.
-- PostgreSQL twin of sql/ads/mssql/queries/lower_calls_to_action.sql.
--
-- Question: which calls to action ("Shop now", "SHOP NOW", "shop now " ...) do the live ads use,
-- and how many ads each, counting spellings that differ only in case or surrounding blanks as one?
-- Data: the seeded ads (ads.ads.call_to_action), in English and Spanish.
-- What to look at: one row per normalised call to action, most used first. lower(btrim(x)) is the
-- grouping key and the label, so the label is the same on every run. On SQL Server a
-- case-insensitive collation already groups the variants, but which spelling it shows is
-- arbitrary: LOWER makes it deterministic. Never wrap an indexed column in LOWER in a WHERE: the
-- predicate stops being an index seek (index the expression instead, or rely on the collation).
-- Run: psql "$ADS_URL" -f sql/ads/postgres/queries/lower_calls_to_action.sql

SELECT lower(btrim(a.call_to_action)) AS call_to_action,
       count(*) AS ads
FROM ads.ads a
WHERE a.deleted_at IS NULL AND a.call_to_action IS NOT NULL
GROUP BY lower(btrim(a.call_to_action))
ORDER BY ads DESC, call_to_action;
