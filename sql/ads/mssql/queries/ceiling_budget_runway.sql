-- CEILING: how many more days each active campaign can run at its recent spend.
-- SQL Server 2022. PostgreSQL twin: sql/ads/postgres/queries/ceiling_budget_runway.sql.
--
-- Question: at the average daily spend of its last 7 days of results, how many days until each
-- active campaign has spent its budget? A part of a day counts as a day the campaign still runs.
-- Data: the seeded active campaigns and their daily results; "today" is the last day with results.
-- What to look at: runway_days = CEILING(remaining budget / daily spend): 2.1 days of money is 3
-- days on air. Campaigns that spent nothing in the window have no runway to compute and are left
-- out; so are those already at or over budget (no division by zero: daily > 0 is filtered in the
-- same WHERE, and SQL Server may evaluate the SELECT list first, hence the NULLIF guard).
-- Run: sqlcmd -d PromptAds -i sql/ads/mssql/queries/ceiling_budget_runway.sql

DECLARE @today DATE = (SELECT MAX(r.day) FROM ads.ad_results AS r WHERE r.deleted_at IS NULL);

WITH spend AS (
    SELECT
        r.campaign_id,
        SUM(r.cost) AS spent,
        SUM(CASE WHEN r.day > DATEADD(DAY, -7, @today) THEN CAST(r.cost AS DECIMAL(38, 10)) END) / 7 AS daily
    FROM ads.ad_results AS r
    WHERE r.deleted_at IS NULL
    GROUP BY r.campaign_id
)

SELECT
    c.id AS campaign_id,
    c.name AS campaign,
    c.budget,
    s.spent,
    CAST(ROUND(s.daily, 2) AS DECIMAL(18, 2)) AS daily_spend,
    CEILING((c.budget - s.spent) / NULLIF(s.daily, 0)) AS runway_days
FROM ads.campaigns AS c
INNER JOIN spend AS s ON c.id = s.campaign_id
WHERE c.deleted_at IS NULL AND c.status = 'active' AND s.daily > 0 AND c.budget > s.spent
ORDER BY runway_days, c.id;
