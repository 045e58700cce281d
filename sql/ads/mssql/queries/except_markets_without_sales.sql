-- EXCEPT: markets an active campaign targets where it sold nothing lately.
-- SQL Server 2022. PostgreSQL twin: sql/ads/postgres/queries/except_markets_without_sales.sql.
--
-- Question: which markets does each active campaign target (ads.campaign_markets) without a single
-- order there (ads.ad_results.sales > 0) in the last four weeks of results? Those are the targets
-- to pause or to rework while the campaign still runs.
-- Data: the seeded active campaigns, their live market links and their daily results; "today" is
-- the last day with results.
-- What to look at: one row per (campaign, market) gap. EXCEPT compares whole rows and removes
-- duplicates, so the two inputs only need the same columns: no GROUP BY, no correlated NOT EXISTS
-- to write, and NULLs compare as equal (unlike NOT IN, which a single NULL empties). The plan is
-- usually a hash or merge anti semi join; the day filter is served by ad_results_market_id_day_idx.
-- Run: sqlcmd -d PromptAds -i sql/ads/mssql/queries/except_markets_without_sales.sql

DECLARE @today DATE = (SELECT MAX(r.day) FROM ads.ad_results AS r WHERE r.deleted_at IS NULL);

SELECT
    gap.campaign_id,
    c.name AS campaign,
    m.code AS market
FROM (
    SELECT
        cm.campaign_id,
        cm.market_id
    FROM ads.campaign_markets AS cm
    INNER JOIN ads.campaigns AS c
        ON cm.campaign_id = c.id AND c.deleted_at IS NULL AND c.status = 'active'
    WHERE cm.deleted_at IS NULL
    EXCEPT
    SELECT
        r.campaign_id,
        r.market_id
    FROM ads.ad_results AS r
    WHERE r.deleted_at IS NULL AND r.sales > 0 AND r.day > DATEADD(DAY, -28, @today)
) AS gap
INNER JOIN ads.campaigns AS c ON gap.campaign_id = c.id
INNER JOIN ads.markets AS m ON gap.market_id = m.id
ORDER BY c.name, m.code, gap.campaign_id;
