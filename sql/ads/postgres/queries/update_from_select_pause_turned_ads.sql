-- UPDATE from a SELECT (a joined update): pause the active ads whose audience turned negative.
-- PostgreSQL twin of sql/ads/mssql/queries/update_from_select_pause_turned_ads.sql.
--
-- Question: which active ads had more negative than positive mentions over the last 7 days of
-- sentiment (all channels together)? Pause them until the team has looked, and list them.
-- Data: the seeded sentiment (ads.sentiment_samples), where about 8% of ads turn negative part-way
-- through their run; "today" is the last sampled day. This script WRITES: run it on a copy.
-- What to look at: one row per paused ad. The aggregate is computed once in the derived table
-- and joined (UPDATE ... FROM), instead of a correlated subquery per ad; the status filter in
-- WHERE makes a second run a no-op (nothing left to pause), and updated_at moves with the
-- trigger, so the ETL picks the change up.
-- Run: psql "$ADS_URL" -f sql/ads/postgres/queries/update_from_select_pause_turned_ads.sql

UPDATE ads.ads AS a
SET status = 'paused'
FROM (
    SELECT s.ad_id
    FROM ads.sentiment_samples s
    WHERE s.deleted_at IS NULL
      AND s.day > (SELECT max(x.day) FROM ads.sentiment_samples x WHERE x.deleted_at IS NULL) - 7
    GROUP BY s.ad_id
    HAVING sum(s.negative_count) > sum(s.positive_count)
) AS turned
WHERE a.id = turned.ad_id AND a.status = 'active' AND a.deleted_at IS NULL
RETURNING a.id AS ad_id, a.campaign_id, a.name, a.status;
