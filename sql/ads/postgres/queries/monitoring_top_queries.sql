-- Monitoring: the top queries by total and by mean execution time (pg_stat_statements).
-- PostgreSQL twin of sql/ads/mssql/queries/monitoring_query_store.sql and monitoring_dmvs.sql.
--
-- Question: after a load, which statements of this database cost the most in total (what to tune
-- first for throughput) and per call (what users wait on)?
-- Needs: shared_preload_libraries = 'pg_stat_statements' (a restart) and, once per database,
-- CREATE EXTENSION pg_stat_statements. Reset the counters before a measured load with
-- SELECT pg_stat_statements_reset();
-- Data: whatever ran since the last reset; the test (subgraphs/ads/tests/sql_scripts.rs) starts a
-- private server, runs a known load and finds its statements here.
-- What to look at: ranked_by 'total' then 'mean', ten rows each. Constants are normalised to $n,
-- so one row stands for every call of a statement shape. calls × mean = total. hit_pct is the
-- share of blocks found in shared buffers (low: the query reads from disk or the OS cache).
-- Statements that read these statistics themselves are left out.
-- Run: psql "$ADS_URL" -f sql/ads/postgres/queries/monitoring_top_queries.sql

WITH s AS (
    SELECT s.queryid, s.calls, s.total_exec_time, s.mean_exec_time, s.rows,
           s.shared_blks_hit, s.shared_blks_read, s.query
    FROM pg_stat_statements s
    JOIN pg_database d ON d.oid = s.dbid
    WHERE d.datname = current_database()
      AND s.query NOT ILIKE '%pg_stat_statements%'
), ranked AS (
    SELECT 'total' AS ranked_by, row_number() OVER (ORDER BY s.total_exec_time DESC, s.queryid) AS rank, s.*
    FROM s
    UNION ALL
    SELECT 'mean', row_number() OVER (ORDER BY s.mean_exec_time DESC, s.queryid), s.*
    FROM s
)
SELECT ranked_by,
       rank,
       calls,
       round(total_exec_time::numeric, 3) AS total_ms,
       round(mean_exec_time::numeric, 3) AS mean_ms,
       rows,
       round(100.0 * shared_blks_hit / NULLIF(shared_blks_hit + shared_blks_read, 0), 1) AS hit_pct,
       left(regexp_replace(query, '\s+', ' ', 'g'), 200) AS query
FROM ranked
WHERE rank <= 10
ORDER BY ranked_by DESC, rank;
