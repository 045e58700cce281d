-- UPDATE from a SELECT (a joined update): pause the active ads whose audience turned negative.
-- SQL Server 2022. PostgreSQL twin: sql/ads/postgres/queries/update_from_select_pause_turned_ads.sql.
--
-- Question: which active ads had more negative than positive mentions over the last 7 days of
-- sentiment (all channels together)? Pause them until the team has looked, and list them.
-- Data: the seeded sentiment (ads.sentiment_samples), where about 8% of ads turn negative part-way
-- through their run; "today" is the last sampled day. This script WRITES: run it on a copy.
-- What to look at: one row per paused ad (OUTPUT inserted.*). The aggregate is computed once in
-- the derived table and joined (UPDATE alias ... FROM ... INNER JOIN), instead of a correlated
-- subquery per ad. The target is named by its alias, so the join cannot silently turn into a
-- cross join with a second copy of the table. The status filter makes a second run a no-op, and
-- the touch trigger moves updated_at, so the ETL picks the change up.
-- Run: sqlcmd -d PromptAds -i sql/ads/mssql/queries/update_from_select_pause_turned_ads.sql

SET NOCOUNT ON;

DECLARE @today DATE = (SELECT MAX(s.day) FROM ads.sentiment_samples AS s WHERE s.deleted_at IS NULL);

UPDATE a
SET a.status = 'paused'
OUTPUT
    inserted.id AS ad_id,
    inserted.campaign_id,
    inserted.name,
    inserted.status
FROM ads.ads AS a
INNER JOIN (
    SELECT s.ad_id
    FROM ads.sentiment_samples AS s
    WHERE s.deleted_at IS NULL AND s.day > DATEADD(DAY, -7, @today)
    GROUP BY s.ad_id
    HAVING SUM(CAST(s.negative_count AS BIGINT)) > SUM(CAST(s.positive_count AS BIGINT))
) AS turned ON a.id = turned.ad_id
WHERE a.status = 'active' AND a.deleted_at IS NULL;
