-- INTERSECT: channel and market pairs that sold in both peak seasons.
-- PostgreSQL twin of sql/ads/mssql/queries/intersect_peak_season_pairs.sql.
--
-- Question: on which (channel, market) pairs did ads sell both in December (the holidays) and in
-- August (back to school in Mexico and the United States)? Those pairs carry both peaks and are
-- where next season's budget goes first.
-- Data: the seeded daily results (ads.ad_results), sixteen months with both peaks in them.
-- What to look at: one row per pair, by channel then market. INTERSECT keeps the rows both
-- inputs have, once each; the same with JOIN would need DISTINCT on both sides.
-- Run: psql "$ADS_URL" -f sql/ads/postgres/queries/intersect_peak_season_pairs.sql

SELECT ch.code AS channel,
       m.code AS market
FROM (
    SELECT r.channel_id, r.market_id
    FROM ads.ad_results r
    WHERE r.deleted_at IS NULL AND r.sales > 0 AND extract(MONTH FROM r.day) = 12
    INTERSECT
    SELECT r.channel_id, r.market_id
    FROM ads.ad_results r
    WHERE r.deleted_at IS NULL AND r.sales > 0 AND extract(MONTH FROM r.day) = 8
) AS both_peaks
JOIN ads.channels ch ON ch.id = both_peaks.channel_id
JOIN ads.markets m ON m.id = both_peaks.market_id
ORDER BY ch.code, m.code;
