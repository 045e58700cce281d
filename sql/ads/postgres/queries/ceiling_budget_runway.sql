-- CEILING: how many more days each active campaign can run at its recent spend.
-- PostgreSQL twin of sql/ads/mssql/queries/ceiling_budget_runway.sql.
--
-- Question: at the average daily spend of its last 7 days of results, how many days until each
-- active campaign has spent its budget? A part of a day counts as a day the campaign still runs.
-- Data: the seeded active campaigns and their daily results; "today" is the last day with results.
-- What to look at: runway_days = CEILING(remaining budget / daily spend): 2.1 days of money is 3
-- days on air. Campaigns that spent nothing in the window have no runway to compute and are left
-- out; so are those already at or over budget.
-- Run: psql "$ADS_URL" -f sql/ads/postgres/queries/ceiling_budget_runway.sql

WITH today AS (
    SELECT max(r.day) AS day FROM ads.ad_results r WHERE r.deleted_at IS NULL
), spend AS (
    SELECT r.campaign_id,
           sum(r.cost) AS spent,
           sum(r.cost) FILTER (WHERE r.day > t.day - 7) / 7 AS daily
    FROM ads.ad_results r
    CROSS JOIN today t
    WHERE r.deleted_at IS NULL
    GROUP BY r.campaign_id
)
SELECT c.id AS campaign_id,
       c.name AS campaign,
       c.budget,
       s.spent,
       round(s.daily, 2) AS daily_spend,
       ceiling((c.budget - s.spent) / s.daily) AS runway_days
FROM ads.campaigns c
JOIN spend s ON s.campaign_id = c.id
WHERE c.deleted_at IS NULL AND c.status = 'active' AND s.daily > 0 AND c.budget > s.spent
ORDER BY runway_days, c.id;
