-- Monitoring: one query's plan with its real row counts, times and buffers, and auto_explain.
-- PostgreSQL twin of the "actual execution plan" part of sql/ads/mssql/queries/monitoring_dmvs.sql.
--
-- Question: where does the negative-sentiment report spend its time for the brand with the most
-- sentiment rows, over the last four weeks of data? And how do we catch slow plans we did not run
-- ourselves?
-- Data: the seeded ads store.
-- What to look at:
-- * The plan of EXPLAIN with ANALYZE and BUFFERS: the function is a STABLE SQL function with one
--   query, so the planner inlines it and the plan shows its joins. Compare "rows=" estimated with
--   "actual rows="; a large gap means stale or missing statistics (ANALYZE ads.sentiment_samples).
--   "Buffers: shared hit" are pages found in memory, "read" came from disk or the OS cache.
-- * auto_explain logs the plan of every statement slower than log_min_duration to the server
--   log, with actual rows and buffers. LOAD is per session (superuser); for every session use
--   session_preload_libraries or shared_preload_libraries = 'auto_explain' in postgresql.conf.
--   log_analyze costs timing overhead on every statement: keep log_min_duration high in
--   production (e.g. 500ms), and sample with auto_explain.sample_rate.
-- Run: psql "$ADS_URL" -f sql/ads/postgres/queries/monitoring_explain.sql

LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_analyze = on;
SET auto_explain.log_buffers = on;
SET auto_explain.log_nested_statements = on;

-- The arguments come from a LATERAL join, not from subqueries: a set-returning SQL function is
-- inlined only when its arguments hold no sub-select.
EXPLAIN (ANALYZE, BUFFERS, COSTS, TIMING)
WITH asked AS (
    SELECT (SELECT c.brand_id FROM ads.sentiment_samples s JOIN ads.campaigns c ON c.id = s.campaign_id
            GROUP BY c.brand_id ORDER BY count(*) DESC, c.brand_id LIMIT 1) AS brand_id,
           max(day) - 27 AS from_day,
           max(day) AS to_day
    FROM ads.sentiment_samples
)
SELECT r.*
FROM asked a
CROSS JOIN LATERAL ads.pradsfn_negative_sentiment_report(a.brand_id, NULL, a.from_day, a.to_day) AS r;

-- The same call without EXPLAIN: auto_explain writes its plan to the server log.
WITH asked AS (
    SELECT (SELECT c.brand_id FROM ads.sentiment_samples s JOIN ads.campaigns c ON c.id = s.campaign_id
            GROUP BY c.brand_id ORDER BY count(*) DESC, c.brand_id LIMIT 1) AS brand_id,
           max(day) - 27 AS from_day,
           max(day) AS to_day
    FROM ads.sentiment_samples
)
SELECT count(*) AS report_rows
FROM asked a
CROSS JOIN LATERAL ads.pradsfn_negative_sentiment_report(a.brand_id, NULL, a.from_day, a.to_day) AS r;
