-- FLOOR: what each campaign paid per thousand views on each channel, in whole dollars.
-- PostgreSQL twin of sql/ads/mssql/queries/floor_cpm_per_channel.sql.
--
-- Question: for every live campaign and channel with views, what was the cost per thousand views
-- (CPM, USD), rounded down to whole dollars for the rate-card comparison?
-- Data: the seeded daily results (ads.ad_results: cost in USD, views).
-- What to look at: cpm_floor is the largest whole number not above the exact CPM (cpm_exact is
-- shown beside it): FLOOR never rounds up, so a channel priced at 7.99 lands in the 7 band.
-- floor() of a numeric stays numeric (no float rounding on the way).
-- Run: psql "$ADS_URL" -f sql/ads/postgres/queries/floor_cpm_per_channel.sql

SELECT r.campaign_id,
       ch.code AS channel,
       sum(r.views)::bigint AS views,
       sum(r.cost) AS cost,
       round(1000 * sum(r.cost) / sum(r.views), 4) AS cpm_exact,
       floor(1000 * sum(r.cost) / sum(r.views)) AS cpm_floor
FROM ads.ad_results r
JOIN ads.campaigns c ON c.id = r.campaign_id AND c.deleted_at IS NULL
JOIN ads.channels ch ON ch.id = r.channel_id
WHERE r.deleted_at IS NULL
GROUP BY r.campaign_id, ch.code
HAVING sum(r.views) > 0
ORDER BY r.campaign_id, ch.code;
