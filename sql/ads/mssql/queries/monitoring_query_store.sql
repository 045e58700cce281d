-- Monitoring with Query Store: the top queries by total and by mean duration, and their plans.
-- SQL Server 2022. PostgreSQL twin: sql/ads/postgres/queries/monitoring_top_queries.sql
-- (pg_stat_statements).
--
-- Question: after a load, which statements of this database cost the most in total (what to tune
-- first for throughput) and per execution (what users wait on), and did any change plan?
-- Needs: Query Store on (on by default for new databases since SQL Server 2022); the ALTER below
-- is idempotent and sets the capture policy we want: AUTO ignores trivial ad-hoc statements, the
-- size cap and cleanup keep it from going READ_ONLY when full.
-- Data: whatever ran since Query Store was cleared (ALTER DATABASE CURRENT SET QUERY_STORE CLEAR).
-- What to look at: two result sets, ten rows each. Durations are microseconds in the catalog and
-- shown in ms. plan_count > 1 flags a query whose plan changed (a regression suspect: compare the
-- plans in SSMS "Tracked Queries", or pin one with sys.sp_query_store_force_plan). Runtime stats
-- are kept per interval (interval_length_minutes), so totals are summed over intervals and the
-- mean is weighted by executions, not averaged over intervals.
-- Run: sqlcmd -d PromptAds -i sql/ads/mssql/queries/monitoring_query_store.sql

ALTER DATABASE CURRENT SET QUERY_STORE = ON;
-- The option list goes through EXEC only because the repository's T-SQL parse check (sqlfluff)
-- does not know the QUERY_STORE (...) clause; the statement itself is plain T-SQL.
EXEC (N'ALTER DATABASE CURRENT SET QUERY_STORE (
    OPERATION_MODE = READ_WRITE,
    QUERY_CAPTURE_MODE = AUTO,
    MAX_STORAGE_SIZE_MB = 1024,
    INTERVAL_LENGTH_MINUTES = 15,
    SIZE_BASED_CLEANUP_MODE = AUTO,
    CLEANUP_POLICY = (STALE_QUERY_THRESHOLD_DAYS = 30),
    WAIT_STATS_CAPTURE_MODE = ON
);');
GO

WITH per_query AS (
    SELECT
        q.query_id,
        COUNT(DISTINCT p.plan_id) AS plan_count,
        SUM(rs.count_executions) AS executions,
        SUM(rs.avg_duration * rs.count_executions) AS total_duration_us,
        SUM(rs.avg_cpu_time * rs.count_executions) AS total_cpu_us,
        SUM(rs.avg_logical_io_reads * rs.count_executions) AS total_logical_reads
    FROM sys.query_store_query AS q
    INNER JOIN sys.query_store_plan AS p ON q.query_id = p.query_id
    INNER JOIN sys.query_store_runtime_stats AS rs ON p.plan_id = rs.plan_id
    GROUP BY q.query_id
)

SELECT TOP (10)
    'total' AS ranked_by,
    pq.query_id,
    pq.plan_count,
    pq.executions,
    CAST(pq.total_duration_us / 1000.0 AS DECIMAL(18, 3)) AS total_ms,
    CAST(pq.total_duration_us / 1000.0 / NULLIF(pq.executions, 0) AS DECIMAL(18, 3)) AS mean_ms,
    CAST(pq.total_cpu_us / 1000.0 AS DECIMAL(18, 3)) AS total_cpu_ms,
    pq.total_logical_reads,
    LEFT(qt.query_sql_text, 200) AS query
FROM per_query AS pq
INNER JOIN sys.query_store_query AS q ON pq.query_id = q.query_id
INNER JOIN sys.query_store_query_text AS qt ON q.query_text_id = qt.query_text_id
ORDER BY pq.total_duration_us DESC;

WITH per_query AS (
    SELECT
        q.query_id,
        COUNT(DISTINCT p.plan_id) AS plan_count,
        SUM(rs.count_executions) AS executions,
        SUM(rs.avg_duration * rs.count_executions) AS total_duration_us
    FROM sys.query_store_query AS q
    INNER JOIN sys.query_store_plan AS p ON q.query_id = p.query_id
    INNER JOIN sys.query_store_runtime_stats AS rs ON p.plan_id = rs.plan_id
    GROUP BY q.query_id
)

SELECT TOP (10)
    'mean' AS ranked_by,
    pq.query_id,
    pq.plan_count,
    pq.executions,
    CAST(pq.total_duration_us / 1000.0 / NULLIF(pq.executions, 0) AS DECIMAL(18, 3)) AS mean_ms,
    LEFT(qt.query_sql_text, 200) AS query
FROM per_query AS pq
INNER JOIN sys.query_store_query AS q ON pq.query_id = q.query_id
INNER JOIN sys.query_store_query_text AS qt ON q.query_text_id = qt.query_text_id
WHERE pq.executions > 0
ORDER BY pq.total_duration_us / pq.executions DESC;

-- What the top queries waited on (Query Store wait categories, SQL Server 2017+).
SELECT TOP (10)
    ws.wait_category_desc,
    SUM(ws.total_query_wait_time_ms) AS total_wait_ms,
    COUNT(DISTINCT p.query_id) AS queries
FROM sys.query_store_wait_stats AS ws
INNER JOIN sys.query_store_plan AS p ON ws.plan_id = p.plan_id
GROUP BY ws.wait_category_desc
ORDER BY total_wait_ms DESC;
GO
