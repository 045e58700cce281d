-- EXCEPT: markets an active campaign targets where it sold nothing lately.
-- PostgreSQL twin of sql/ads/mssql/queries/except_markets_without_sales.sql.
--
-- Question: which markets does each active campaign target (ads.campaign_markets) without a single
-- order there (ads.ad_results.sales > 0) in the last four weeks of results? Those are the targets
-- to pause or to rework while the campaign still runs.
-- Data: the seeded active campaigns, their live market links and their daily results; "today" is
-- the last day with results.
-- What to look at: one row per (campaign, market) gap. EXCEPT compares whole rows and removes
-- duplicates, so the two inputs only need the same columns: no GROUP BY, no correlated NOT EXISTS
-- to write, and NULLs compare as equal (unlike NOT IN, which a single NULL empties).
-- Run: psql "$ADS_URL" -f sql/ads/postgres/queries/except_markets_without_sales.sql

SELECT gap.campaign_id,
       c.name AS campaign,
       m.code AS market
FROM (
    SELECT cm.campaign_id, cm.market_id
    FROM ads.campaign_markets cm
    JOIN ads.campaigns c ON c.id = cm.campaign_id AND c.deleted_at IS NULL AND c.status = 'active'
    WHERE cm.deleted_at IS NULL
    EXCEPT
    SELECT r.campaign_id, r.market_id
    FROM ads.ad_results r
    WHERE r.deleted_at IS NULL AND r.sales > 0
      AND r.day > (SELECT max(x.day) FROM ads.ad_results x WHERE x.deleted_at IS NULL) - 28
) AS gap
JOIN ads.campaigns c ON c.id = gap.campaign_id
JOIN ads.markets m ON m.id = gap.market_id
ORDER BY c.name, m.code, gap.campaign_id;
