-- FLOOR: what each campaign paid per thousand views on each channel, in whole dollars.
-- SQL Server 2022. PostgreSQL twin: sql/ads/postgres/queries/floor_cpm_per_channel.sql.
--
-- Question: for every live campaign and channel with views, what was the cost per thousand views
-- (CPM, USD), rounded down to whole dollars for the rate-card comparison?
-- Data: the seeded daily results (ads.ad_results: cost DECIMAL(14,2) in USD, views BIGINT).
-- What to look at: cpm_floor is the largest whole number not above the exact CPM (cpm_exact is
-- shown beside it): FLOOR never rounds up, so a channel priced at 7.99 lands in the 7 band.
-- The division is done in DECIMAL(38, 10) on purpose: DECIMAL / BIGINT keeps few decimals and
-- FLOAT would make 8.0 come out as 7.9999999 and floor to 7.
-- Run: sqlcmd -d PromptAds -i sql/ads/mssql/queries/floor_cpm_per_channel.sql

SELECT
    r.campaign_id,
    ch.code AS channel,
    SUM(r.views) AS views,
    SUM(r.cost) AS cost,
    CAST(ROUND(1000 * CAST(SUM(r.cost) AS DECIMAL(38, 10)) / SUM(r.views), 4) AS DECIMAL(18, 4)) AS cpm_exact,
    FLOOR(1000 * CAST(SUM(r.cost) AS DECIMAL(38, 10)) / SUM(r.views)) AS cpm_floor
FROM ads.ad_results AS r
INNER JOIN ads.campaigns AS c ON r.campaign_id = c.id AND c.deleted_at IS NULL
INNER JOIN ads.channels AS ch ON r.channel_id = ch.id
WHERE r.deleted_at IS NULL
GROUP BY r.campaign_id, ch.code
HAVING SUM(r.views) > 0
ORDER BY r.campaign_id, ch.code;
