-- =============================================================================
-- 05_query_monitoring.sql: watching queries: pg_stat_statements,
-- pg_stat_activity, locks and EXPLAIN ANALYZE
--
-- What it shows
--   1. pg_stat_statements: statistics per normalised statement (literals
--      become $1, so 24 runs of one query with different ids are ONE entry).
--      The script resets them, runs a small workload on the campaign plans
--      (a tenant list per organization, an N+1 loop over the plans, and its
--      set-based equivalent), then lists the top statements.
--   2. pg_stat_activity: the sessions of this database, what they run and what
--      they wait for.
--   3. Locks: one session (dblink "holder") keeps a plan row locked, another
--      ("waiter") tries to update it and waits. pg_locks and pg_blocking_pids()
--      show who blocks whom; pg_cancel_backend() ends the waiting statement.
--   4. EXPLAIN (ANALYZE, BUFFERS) of the tenant list query, planned as usual
--      and with sequential scans disabled, to read estimated against actual
--      rows, loops, time and buffers.
--
-- What to look at in the output
--   - the tenant-list entry with "calls" = number of organizations and the N+1
--     entry with "calls" = number of plans, against 1 call of the set-based
--     query that returns the same counts;
--   - the waiter's row: wait_event_type Lock, blocked_by = {monitor_holder},
--     and the ShareLock it waits for on the holder's transaction id;
--   - "waiter cancelled | t" and the waiter's error "canceling statement due
--     to user request";
--   - in the plans: "actual time=... rows=... loops=...", "Buffers: shared
--     hit=...", and which index the planner picks once seq scans are off.
--
-- Run: psql -X -v ON_ERROR_STOP=1 -d promptsales -f sql/sales/scripts/05_query_monitoring.sql
-- Needs: shared_preload_libraries = 'pg_stat_statements' (a restart; the test
-- starts a private server with it), the pg_stat_statements and dblink
-- extensions (both contrib; created when missing and dropped again after),
-- a superuser or a role with pg_read_all_stats and pg_signal_backend. It resets
-- pg_stat_statements: on a shared server, run it where that is acceptable.
-- -v dblink_conn='...' as in 03_deadlocks.sql when the default does not fit.
-- =============================================================================

\set QUIET on
\pset footer off
\set QUIET off

-- -----------------------------------------------------------------------------
-- 0. Preconditions
-- -----------------------------------------------------------------------------
SELECT current_setting('shared_preload_libraries') ~ '(^|[ ,])pg_stat_statements([ ,]|$)' AS preloaded \gset
\if :preloaded
\else
\echo 'pg_stat_statements is not in shared_preload_libraries: add it to postgresql.conf and restart.'
DO $$ BEGIN RAISE EXCEPTION 'pg_stat_statements is not preloaded'; END $$;
\endif

SELECT
    NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_stat_statements') AS created_pgss,
    NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'dblink') AS created_dblink
\gset
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE EXTENSION IF NOT EXISTS dblink;

\if :{?dblink_conn}
\else
SELECT format(
    'host=%s port=%s dbname=%s user=%s',
    coalesce(host(inet_server_addr()), split_part(current_setting('unix_socket_directories'), ',', 1)),
    current_setting('port'),
    current_database(),
    current_user
) AS dblink_conn
\gset
\endif

-- -----------------------------------------------------------------------------
-- 1. pg_stat_statements
-- -----------------------------------------------------------------------------
\echo
\echo '== 1. pg_stat_statements: a workload, then the statements it consists of =='

SELECT pg_stat_statements_reset() IS NOT NULL AS "statistics reset";

-- Workload (a): the portal's tenant list, once per organization, each with its
-- own literal id. \gexec runs every generated statement; its output is hidden.
\o /dev/null
SELECT format(
    'SELECT id, title, status, planned_start FROM sales.campaign_plans '
    'WHERE organization_id = %L AND deleted_at IS NULL ORDER BY planned_start DESC',
    id
)
FROM sales.organizations
ORDER BY id
\gexec

-- Workload (b): "approval steps per plan", the N+1 way: one query per plan.
SELECT format('SELECT count(*) FROM sales.approvals WHERE campaign_plan_id = %L', id)
FROM sales.campaign_plans
ORDER BY id
\gexec
\o

-- Workload (c): the same counts in one set-based statement.
SELECT count(*) AS "plans counted by one statement"
FROM (
    SELECT
        p.id,
        count(a.id) AS steps
    FROM sales.campaign_plans AS p
    LEFT JOIN sales.approvals AS a ON p.id = a.campaign_plan_id
    GROUP BY p.id
) AS per_plan;

SELECT
    (SELECT count(*) FROM sales.organizations) AS organizations,
    (SELECT count(*) FROM sales.campaign_plans) AS plans;

-- The statements of this database that touched the plans, costliest first.
SELECT
    s.calls,
    s.rows,
    round(s.total_exec_time::numeric, 3) AS total_ms,
    round(s.mean_exec_time::numeric, 3) AS mean_ms,
    s.shared_blks_hit AS blocks_hit,
    s.shared_blks_read AS blocks_read,
    left(regexp_replace(s.query, '\s+', ' ', 'g'), 110) AS query
FROM pg_stat_statements AS s
WHERE
    s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND s.query ~ 'sales\.(campaign_plans|approvals)'
    AND s.query !~ 'pg_stat_statements'
ORDER BY s.total_exec_time DESC
LIMIT 10;

-- The two numbers the comparison rests on, as named rows.
SELECT
    coalesce(sum(s.calls) FILTER (WHERE s.query ~ '^SELECT id, title, status, planned_start FROM sales\.campaign_plans'), 0)
    AS "tenant list calls",
    coalesce(sum(s.calls) FILTER (WHERE s.query ~ '^SELECT count\(\*\) FROM sales\.approvals WHERE campaign_plan_id = \$1'), 0)
    AS "n+1 calls",
    count(*) FILTER (WHERE s.query ~ '^SELECT count\(\*\) FROM sales\.approvals WHERE campaign_plan_id = \$1')
    AS "n+1 entries"
FROM pg_stat_statements AS s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database());

-- -----------------------------------------------------------------------------
-- 2 and 3. pg_stat_activity and locks: a session waiting for another
-- -----------------------------------------------------------------------------
\echo
\echo '== 2. pg_stat_activity and 3. locks: holder keeps a plan locked, waiter waits =='

SELECT id AS plan_id FROM sales.campaign_plans ORDER BY id LIMIT 1 \gset

SELECT
    dblink_connect('holder', :'dblink_conn' || ' application_name=monitor_holder') AS "holder connected",
    dblink_connect('waiter', :'dblink_conn' || ' application_name=monitor_waiter') AS "waiter connected";
SELECT dblink_exec('holder', 'BEGIN') AS "holder: begin";
SELECT dblink_exec(
    'holder', format('UPDATE sales.campaign_plans SET objective = objective WHERE id = %L', :'plan_id')
) AS "holder: row locked";
SELECT dblink_send_query(
    'waiter', format('UPDATE sales.campaign_plans SET planned_budget = planned_budget + 1 WHERE id = %L', :'plan_id')
) AS "waiter: update sent (1 = sent)";
SELECT pg_sleep(0.3);

\echo '-- the sessions of this database (pg_stat_activity)'
SELECT
    a.application_name,
    a.backend_type,
    a.state,
    a.wait_event_type,
    a.wait_event,
    a.xact_start IS NOT NULL AS in_transaction,
    (
        SELECT array_agg(b.application_name ORDER BY b.application_name)
        FROM pg_stat_activity AS b
        WHERE b.pid = ANY(pg_blocking_pids(a.pid))
    ) AS blocked_by,
    left(a.query, 60) AS query
FROM pg_stat_activity AS a
WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
ORDER BY a.application_name;

\echo '-- the locks behind it (pg_locks): the waiter''s ungranted ShareLock on the holder''s transaction'
SELECT
    a.application_name,
    l.locktype,
    coalesce(l.relation::regclass::text, l.transactionid::text, l.virtualxid) AS object,
    l.mode,
    l.granted
FROM pg_locks AS l
INNER JOIN pg_stat_activity AS a ON l.pid = a.pid
WHERE
    a.application_name IN ('monitor_holder', 'monitor_waiter')
    AND (l.locktype IN ('transactionid', 'tuple') OR l.relation = 'sales.campaign_plans'::regclass)
ORDER BY a.application_name, l.granted DESC, l.locktype, l.mode;

-- The usual remedy for a stuck statement: cancel it (pg_terminate_backend
-- would end the whole session instead).
SELECT pg_cancel_backend(pid) AS "waiter cancelled"
FROM pg_stat_activity
WHERE application_name = 'monitor_waiter';
SELECT count(*) AS "waiter rows" FROM dblink_get_result('waiter', false) AS r (status text);
SELECT dblink_error_message('waiter') AS "waiter's error";
SELECT count(*) AS "waiter drained" FROM dblink_get_result('waiter', false) AS r (status text);
SELECT dblink_exec('holder', 'ROLLBACK') AS "holder: end";
SELECT dblink_disconnect('holder') AS "holder disconnected", dblink_disconnect('waiter') AS "waiter disconnected";

-- -----------------------------------------------------------------------------
-- 4. EXPLAIN ANALYZE
-- -----------------------------------------------------------------------------
\echo
\echo '== 4. EXPLAIN (ANALYZE, BUFFERS): the tenant list of the first organization =='

SELECT id AS org_id FROM sales.organizations ORDER BY id LIMIT 1 \gset

-- ANALYZE runs the query for real (for a write, inside BEGIN ... ROLLBACK).
EXPLAIN (ANALYZE, BUFFERS, COSTS)
SELECT
    id,
    title,
    status,
    planned_start
FROM sales.campaign_plans
WHERE organization_id = :'org_id' AND deleted_at IS NULL
ORDER BY planned_start DESC;

\echo '-- the same with sequential scans priced out: the index path the planner rejected'
BEGIN;
SET LOCAL enable_seqscan = off;
EXPLAIN (ANALYZE, BUFFERS, COSTS)
SELECT
    id,
    title,
    status,
    planned_start
FROM sales.campaign_plans
WHERE organization_id = :'org_id' AND deleted_at IS NULL
ORDER BY planned_start DESC;
ROLLBACK;

-- Leave the database as we found it.
\if :created_dblink
DROP EXTENSION dblink;
\endif
\if :created_pgss
DROP EXTENSION pg_stat_statements;
\endif
