-- Monitoring with the DMVs: cached query stats, what runs now and what it waits on.
-- SQL Server 2022. PostgreSQL twins: sql/ads/postgres/queries/monitoring_top_queries.sql
-- (pg_stat_statements, pg_stat_activity) and monitoring_explain.sql (actual plans).
--
-- Question: which cached statements cost the most since they were compiled, what is running right
-- now and who blocks whom, and where does the instance spend its waiting time?
-- Needs: VIEW SERVER STATE (VIEW SERVER PERFORMANCE STATE on 2022).
-- Data: the plan cache and the live sessions; sys.dm_exec_query_stats forgets a plan when it
-- leaves the cache (restart, memory pressure, recompile), so use Query Store for history
-- (monitoring_query_store.sql) and these views for "now".
-- What to look at:
-- 1. Top 10 by total and by mean elapsed time (microseconds in the DMV, ms here); the statement
--    text is cut out of the batch with the statement offsets (bytes of NVARCHAR, hence / 2).
-- 2. Running requests with their wait, the blocking session and the statement.
-- 3. Top waits since startup, without the benign idle waits; signal_wait_pct high = CPU pressure.
-- 4. For one statement, SET STATISTICS IO, TIME ON and the actual plan are the EXPLAIN (ANALYZE,
--    BUFFERS) of SQL Server; the last batch shows them on the negative-sentiment report.
-- Run: sqlcmd -d PromptAds -i sql/ads/mssql/queries/monitoring_dmvs.sql

SELECT TOP (10)
    'total' AS ranked_by,
    qs.execution_count,
    CAST(qs.total_elapsed_time / 1000.0 AS DECIMAL(18, 3)) AS total_ms,
    CAST(qs.total_elapsed_time / 1000.0 / qs.execution_count AS DECIMAL(18, 3)) AS mean_ms,
    CAST(qs.total_worker_time / 1000.0 AS DECIMAL(18, 3)) AS total_cpu_ms,
    qs.total_logical_reads,
    qs.total_rows,
    SUBSTRING(
        st.text,
        qs.statement_start_offset / 2 + 1,
        (CASE WHEN qs.statement_end_offset = -1 THEN DATALENGTH(st.text) ELSE qs.statement_end_offset END
         - qs.statement_start_offset) / 2 + 1
    ) AS statement_text
FROM sys.dm_exec_query_stats AS qs
CROSS APPLY sys.dm_exec_sql_text(qs.sql_handle) AS st
WHERE st.dbid = DB_ID()
ORDER BY qs.total_elapsed_time DESC;

SELECT TOP (10)
    'mean' AS ranked_by,
    qs.execution_count,
    CAST(qs.total_elapsed_time / 1000.0 / qs.execution_count AS DECIMAL(18, 3)) AS mean_ms,
    CAST(qs.max_elapsed_time / 1000.0 AS DECIMAL(18, 3)) AS max_ms,
    SUBSTRING(
        st.text,
        qs.statement_start_offset / 2 + 1,
        (CASE WHEN qs.statement_end_offset = -1 THEN DATALENGTH(st.text) ELSE qs.statement_end_offset END
         - qs.statement_start_offset) / 2 + 1
    ) AS statement_text
FROM sys.dm_exec_query_stats AS qs
CROSS APPLY sys.dm_exec_sql_text(qs.sql_handle) AS st
WHERE st.dbid = DB_ID()
ORDER BY qs.total_elapsed_time / qs.execution_count DESC;

-- What runs now (not this session), with its wait and blocker.
SELECT
    r.session_id,
    r.status,
    r.command,
    r.wait_type,
    r.wait_time AS wait_ms,
    r.blocking_session_id,
    r.cpu_time AS cpu_ms,
    r.total_elapsed_time AS elapsed_ms,
    r.logical_reads,
    SUBSTRING(
        st.text,
        r.statement_start_offset / 2 + 1,
        (CASE WHEN r.statement_end_offset = -1 THEN DATALENGTH(st.text) ELSE r.statement_end_offset END
         - r.statement_start_offset) / 2 + 1
    ) AS statement_text
FROM sys.dm_exec_requests AS r
CROSS APPLY sys.dm_exec_sql_text(r.sql_handle) AS st
WHERE r.session_id <> @@SPID AND r.database_id = DB_ID()
ORDER BY r.total_elapsed_time DESC;

-- Where the instance waits, without the idle and background waits that are always there.
SELECT TOP (10)
    ws.wait_type,
    ws.waiting_tasks_count,
    ws.wait_time_ms,
    CAST(100.0 * ws.signal_wait_time_ms / NULLIF(ws.wait_time_ms, 0) AS DECIMAL(5, 1)) AS signal_wait_pct
FROM sys.dm_os_wait_stats AS ws
WHERE
    ws.waiting_tasks_count > 0
    AND ws.wait_type NOT IN (
        'BROKER_EVENTHANDLER', 'BROKER_RECEIVE_WAITFOR', 'BROKER_TASK_STOP', 'BROKER_TO_FLUSH',
        'CHECKPOINT_QUEUE', 'CLR_AUTO_EVENT', 'CLR_MANUAL_EVENT', 'DIRTY_PAGE_POLL',
        'DISPATCHER_QUEUE_SEMAPHORE', 'FT_IFTS_SCHEDULER_IDLE_WAIT', 'HADR_FILESTREAM_IOMGR_IOCOMPLETION',
        'LAZYWRITER_SLEEP', 'LOGMGR_QUEUE', 'ONDEMAND_TASK_QUEUE', 'QDS_ASYNC_QUEUE',
        'QDS_CLEANUP_STALE_QUERIES_TASK_MAIN_LOOP_SLEEP', 'QDS_PERSIST_TASK_MAIN_LOOP_SLEEP',
        'REQUEST_FOR_DEADLOCK_SEARCH', 'SLEEP_TASK', 'SOS_WORK_DISPATCHER', 'SP_SERVER_DIAGNOSTICS_SLEEP',
        'SQLTRACE_BUFFER_FLUSH', 'SQLTRACE_INCREMENTAL_FLUSH_SLEEP', 'WAITFOR', 'XE_DISPATCHER_WAIT',
        'XE_TIMER_EVENT'
    )
ORDER BY ws.wait_time_ms DESC;
GO

-- The EXPLAIN (ANALYZE, BUFFERS) of SQL Server for one statement: logical/physical reads per
-- table and CPU/elapsed time in the messages, and the actual plan (rows, executions, spills) as
-- XML in a result set. The brand with the most sentiment rows, last four weeks of data.
DECLARE @brand UNIQUEIDENTIFIER = (
    SELECT TOP (1) c.brand_id
    FROM ads.sentiment_samples AS s
    INNER JOIN ads.campaigns AS c ON s.campaign_id = c.id
    GROUP BY c.brand_id
    ORDER BY COUNT_BIG(*) DESC, c.brand_id
);
DECLARE @to DATE = (SELECT MAX(s.day) FROM ads.sentiment_samples AS s);
DECLARE @from DATE = DATEADD(DAY, -27, @to);

SET STATISTICS IO ON;
SET STATISTICS TIME ON;
SET STATISTICS XML ON;
SELECT r.*
FROM ads.PRADSFN_NegativeSentimentReport(@brand, NULL, @from, @to) AS r
ORDER BY r.reaction_drop_pct DESC;
SET STATISTICS XML OFF;
SET STATISTICS TIME OFF;
SET STATISTICS IO OFF;
GO
