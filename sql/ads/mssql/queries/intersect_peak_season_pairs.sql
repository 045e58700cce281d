-- INTERSECT: channel and market pairs that sold in both peak seasons.
-- SQL Server 2022. PostgreSQL twin: sql/ads/postgres/queries/intersect_peak_season_pairs.sql.
--
-- Question: on which (channel, market) pairs did ads sell both in December (the holidays) and in
-- August (back to school in Mexico and the United States)? Those pairs carry both peaks and are
-- where next season's budget goes first.
-- Data: the seeded daily results (ads.ad_results), sixteen months with both peaks in them.
-- What to look at: one row per pair, by channel then market. INTERSECT keeps the rows both
-- inputs have, once each; the same with INNER JOIN would need DISTINCT on both sides.
-- MONTH(day) is not sargable; on a large table filter on day ranges instead (the seeded months
-- are shown this way for readability).
-- Run: sqlcmd -d PromptAds -i sql/ads/mssql/queries/intersect_peak_season_pairs.sql

SELECT
    ch.code AS channel,
    m.code AS market
FROM (
    SELECT
        r.channel_id,
        r.market_id
    FROM ads.ad_results AS r
    WHERE r.deleted_at IS NULL AND r.sales > 0 AND MONTH(r.day) = 12
    INTERSECT
    SELECT
        r.channel_id,
        r.market_id
    FROM ads.ad_results AS r
    WHERE r.deleted_at IS NULL AND r.sales > 0 AND MONTH(r.day) = 8
) AS both_peaks
INNER JOIN ads.channels AS ch ON both_peaks.channel_id = ch.id
INNER JOIN ads.markets AS m ON both_peaks.market_id = m.id
ORDER BY ch.code, m.code;
