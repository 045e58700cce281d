-- =============================================================================
-- 03_deadlocks.sql: two sessions, a deadlock, how PostgreSQL detects and
-- reports it, and how lock ordering avoids it
--
-- Two sessions in one script: sessions A and B are two more connections
-- opened with the dblink extension, and this psql session narrates: it sends
-- their statements (dblink_send_query lets a session wait on a lock without
-- blocking the script) and looks at pg_stat_activity and pg_locks while they
-- wait. One command reproduces it, every time, with no second terminal.
--
-- The story: two planners re-balance budget between the same two campaign
-- plans. A moves money from plan 1 to plan 2, B from plan 2 to plan 1. Each
-- updates its source plan first, so each holds one row lock and then waits
-- for the other's: a cycle that no amount of waiting resolves.
--
-- What PostgreSQL does: a session that has waited deadlock_timeout (1 s by
-- default) for a lock runs the deadlock detector once; if it finds a cycle, it
-- aborts its OWN transaction with SQLSTATE 40P01 "deadlock detected" and a
-- DETAIL naming both processes and what each waits for (the same text, with
-- the queries, goes to the server log). The other transaction then gets its
-- lock and carries on. Here A waits first with deadlock_timeout = 10s and B
-- closes the cycle with 100ms, so B's detector runs first: B is the victim,
-- A survives. (With equal settings, the session that has waited longest
-- usually checks first and is the one aborted.)
--
-- What to look at in the output
--   - while A waits: its wait_event (transactionid) and pg_blocking_pids = B;
--   - "A's result | UPDATE 1" and B's error "deadlock detected" with its
--     DETAIL (Process ... waits for ShareLock on transaction ...; blocked by
--     process ...): exactly one victim;
--   - "deadlocks in this database (pg_stat_database) | 1";
--   - part 2, ordered locking: both lock the two plans in id order first
--     (SELECT ... ORDER BY id FOR UPDATE); B just waits for A, both finish and
--     the deadlock counter stays where it was.
--
-- Nothing is kept: A's and B's transactions end in ROLLBACK.
--
-- Run: psql -X -v ON_ERROR_STOP=1 -d promptsales -f sql/sales/scripts/03_deadlocks.sql
-- Needs: the dblink extension (contrib; CREATE EXTENSION needs a superuser or
-- a DBA who installed it; the script drops it again if it created it). A and B
-- connect with this session's host, port, database and user, over TCP to this
-- server's address (or its first socket directory). Give
-- -v dblink_conn='host=... port=... dbname=... user=... password=...' when that
-- does not fit (dblink asks a non-superuser for a password).
-- =============================================================================

\set QUIET on
\pset footer off
\set QUIET off

-- -----------------------------------------------------------------------------
-- Setup: dblink, the connection string of A and B, two plans
-- -----------------------------------------------------------------------------
SELECT NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'dblink') AS created_dblink \gset
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

-- The two plans: the first two live ones by id.
SELECT
    (array_agg(id ORDER BY id))[1] AS plan_1,
    (array_agg(id ORDER BY id))[2] AS plan_2
FROM (
    SELECT id FROM sales.campaign_plans
    WHERE deleted_at IS NULL
    ORDER BY id LIMIT 2
) AS two
\gset

SELECT deadlocks AS deadlocks_before FROM pg_stat_database WHERE datname = current_database() \gset

-- Waits for pg_stat_database to count `expected` deadlocks (statistics of a
-- session arrive when it goes idle or ends), at most 5 s.
CREATE FUNCTION pg_temp.wait_for_deadlocks(expected bigint)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    seen bigint;
BEGIN
    FOR i IN 1..50 LOOP
        PERFORM pg_stat_clear_snapshot();
        SELECT deadlocks INTO seen FROM pg_stat_database WHERE datname = current_database();
        EXIT WHEN seen >= expected;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN seen;
END
$$;

SELECT
    dblink_connect('a', :'dblink_conn' || ' application_name=deadlock_a') AS "A connected",
    dblink_connect('b', :'dblink_conn' || ' application_name=deadlock_b') AS "B connected";
SELECT
    dblink_exec('a', 'SET deadlock_timeout = ''10s''') AS "A: deadlock_timeout 10s",
    dblink_exec('b', 'SET deadlock_timeout = ''100ms''') AS "B: deadlock_timeout 100ms";

-- -----------------------------------------------------------------------------
-- 1. The deadlock
-- -----------------------------------------------------------------------------
\echo
\echo '== 1. A: plan 1 then plan 2; B: plan 2 then plan 1 (opposite order) =='

SELECT
    dblink_exec('a', 'BEGIN') AS "A: begin",
    dblink_exec('b', 'BEGIN') AS "B: begin";
SELECT dblink_exec(
    'a', format('UPDATE sales.campaign_plans SET planned_budget = planned_budget - 100 WHERE id = %L', :'plan_1')
) AS "A: took plan 1";
SELECT dblink_exec(
    'b', format('UPDATE sales.campaign_plans SET planned_budget = planned_budget - 100 WHERE id = %L', :'plan_2')
) AS "B: took plan 2";
-- A asks for plan 2 and waits for B (sent asynchronously: the script goes on).
SELECT dblink_send_query(
    'a', format('UPDATE sales.campaign_plans SET planned_budget = planned_budget + 100 WHERE id = %L', :'plan_2')
) AS "A: asks for plan 2 (1 = sent)";
SELECT pg_sleep(0.3);

\echo 'A is waiting; who blocks whom:'
SELECT
    application_name AS session,
    state,
    wait_event_type,
    wait_event,
    (
        SELECT array_agg(b.application_name)
        FROM pg_stat_activity AS b
        WHERE b.pid = ANY(pg_blocking_pids(a.pid))
    ) AS blocked_by
FROM pg_stat_activity AS a
WHERE application_name IN ('deadlock_a', 'deadlock_b')
ORDER BY application_name;

-- B asks for plan 1: the cycle is closed. After 100 ms B's detector finds it.
SELECT dblink_send_query(
    'b', format('UPDATE sales.campaign_plans SET planned_budget = planned_budget + 100 WHERE id = %L', :'plan_1')
) AS "B: asks for plan 1 (1 = sent)";

-- Both results. fail_on_error => false turns B's error into a NOTICE (printed
-- with the DETAIL) instead of an error of this session.
SELECT status AS "A's result" FROM dblink_get_result('a', false) AS r (status text);
SELECT count(*) AS "B's rows" FROM dblink_get_result('b', false) AS r (status text);
SELECT dblink_error_message('b') AS "B's error", 'B' AS "deadlock victim";
-- Drain the end-of-results markers so both connections take commands again.
SELECT
    (SELECT count(*) FROM dblink_get_result('a', false) AS r (status text)) AS "A drained",
    (SELECT count(*) FROM dblink_get_result('b', false) AS r (status text)) AS "B drained";
SELECT dblink_exec('a', 'ROLLBACK') AS "A: end", dblink_exec('b', 'ROLLBACK') AS "B: end";

-- Ending B makes its statistics arrive now.
SELECT dblink_disconnect('b') AS "B disconnected";
SELECT
    pg_temp.wait_for_deadlocks(:deadlocks_before + 1) - :deadlocks_before
    AS "deadlocks in this database (pg_stat_database)";

-- -----------------------------------------------------------------------------
-- 2. Avoiding it: take the locks in one agreed order
-- -----------------------------------------------------------------------------
\echo
\echo '== 2. both lock the two plans in id order first: B waits for A, nobody dies =='

SELECT dblink_connect('b', :'dblink_conn' || ' application_name=deadlock_b') AS "B connected";
\set lock_both 'SELECT id FROM sales.campaign_plans WHERE id IN (' :'plan_1' ', ' :'plan_2' ') ORDER BY id FOR UPDATE'
SELECT
    dblink_exec('a', 'BEGIN') AS "A: begin",
    dblink_exec('b', 'BEGIN') AS "B: begin";
SELECT count(*) AS "A locked" FROM dblink('a', :'lock_both') AS r (id uuid);
-- B runs the same statement: it waits for A on the first row instead of
-- grabbing the second one.
SELECT dblink_send_query('b', :'lock_both') AS "B: lock both (1 = sent)";
SELECT pg_sleep(0.3);
SELECT
    application_name AS session,
    wait_event_type,
    wait_event
FROM pg_stat_activity
WHERE application_name = 'deadlock_b';
SELECT dblink_exec(
    'a', format('UPDATE sales.campaign_plans SET planned_budget = planned_budget - 100 WHERE id = %L', :'plan_1')
) AS "A: plan 1",
dblink_exec(
    'a', format('UPDATE sales.campaign_plans SET planned_budget = planned_budget + 100 WHERE id = %L', :'plan_2')
) AS "A: plan 2";
-- A finishes (ROLLBACK keeps the data as it was; COMMIT would release the
-- locks the same way), and B's lock request returns.
SELECT dblink_exec('a', 'ROLLBACK') AS "A: end";
SELECT count(*) AS "B locked" FROM dblink_get_result('b') AS r (id uuid);
SELECT count(*) AS "B drained" FROM dblink_get_result('b') AS r (id uuid);
SELECT dblink_exec(
    'b', format('UPDATE sales.campaign_plans SET planned_budget = planned_budget - 100 WHERE id = %L', :'plan_2')
) AS "B: plan 2",
dblink_exec(
    'b', format('UPDATE sales.campaign_plans SET planned_budget = planned_budget + 100 WHERE id = %L', :'plan_1')
) AS "B: plan 1";
SELECT dblink_exec('b', 'ROLLBACK') AS "B: end";
SELECT dblink_disconnect('a') AS "A disconnected", dblink_disconnect('b') AS "B disconnected";

SELECT pg_sleep(0.2);
SELECT
    pg_temp.wait_for_deadlocks(:deadlocks_before + 1) - :deadlocks_before
    AS "deadlocks in this database (pg_stat_database)";

\echo
\echo 'Other ways out: keep transactions short; SET lock_timeout so a wait fails fast'
\echo 'instead of hanging; and retry a transaction that failed with 40P01 (deadlock)'
\echo 'or 40001 (serialization failure): it was rolled back whole, so a retry is safe.'

-- Leave the database as we found it.
\if :created_dblink
DROP EXTENSION dblink;
\endif
