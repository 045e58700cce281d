-- =============================================================================
-- 05_concurrency.sql: five concurrency problems as paired functions, the broken
-- one and the fixed one doing the same work on the same rows.
-- PostgreSQL 15 twin of sql/crm/mssql/scripts/05_concurrency.sql.
--
-- The work: customers' loyalty points (crm_lab.loyalty_accounts, one row per
-- live customer, 1000 points each to start with). Points move between
-- customers, are added, and are totalled for a report.
--
-- | problem                        | broken                    | fixed                                  |
-- |--------------------------------|---------------------------|----------------------------------------|
-- | deadlock in cascade (3 tx)     | transfer_points_broken    | transfer_points_fixed (lock ordering)  |
-- | deadlock, two client computers | transfer_points_broken    | transfer_points_fixed, and             |
-- |                                |                           | transfer_points_retrying (victim retry)|
-- | incorrect summary              | points_total_broken       | points_total_fixed (REPEATABLE READ)   |
-- | lost update                    | add_points_broken         | add_points_fixed (SELECT ... FOR       |
-- |                                |                           | UPDATE), add_points_optimistic         |
-- |                                |                           | (version column)                       |
-- | dirty read                     | read_points at READ       | PostgreSQL has no dirty read: READ     |
-- |                                | UNCOMMITTED               | UNCOMMITTED behaves as READ COMMITTED  |
--
-- The gate: every function takes an optional p_gate (an advisory lock key).
-- When it is given, the function stops at its critical point (between reading
-- and writing, or between its two locks) until whoever holds that advisory
-- lock exclusively releases it. A demo or a test holds the gate, waits until
-- every session is parked, then releases it: the sessions interleave the same
-- way on every run instead of by luck of timing. With p_gate NULL (production)
-- the functions do not stop.
--
-- What to look at: the Rust tests subgraphs/crm/tests/sql_concurrency.rs drive
-- these functions from several real connections (and, for the two-computer
-- deadlock, from two psql processes in two network namespaces); the README
-- says what each shows. The script itself only creates the lab schema.
--
-- Run: psql -X -v ON_ERROR_STOP=1 -d promptcrm -f sql/crm/postgres/scripts/05_concurrency.sql
-- It creates (or re-creates) schema crm_lab; drop it with DROP SCHEMA crm_lab CASCADE.
-- =============================================================================

DROP SCHEMA IF EXISTS crm_lab CASCADE;
CREATE SCHEMA crm_lab;

CREATE TABLE crm_lab.loyalty_accounts (
    customer_id uuid    NOT NULL,
    segment     text    NOT NULL,
    points      bigint  NOT NULL,
    -- Optimistic concurrency: every write bumps it; a writer says which version it read.
    version     integer NOT NULL DEFAULT 1,
    CONSTRAINT loyalty_accounts_pkey PRIMARY KEY (customer_id),
    CONSTRAINT loyalty_accounts_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES crm.customers (id),
    CONSTRAINT loyalty_accounts_points_check CHECK (points >= 0)
);
CREATE INDEX loyalty_accounts_segment_idx ON crm_lab.loyalty_accounts (segment);

INSERT INTO crm_lab.loyalty_accounts (customer_id, segment, points)
SELECT c.id, c.segment, 1000
FROM crm.customers AS c
WHERE c.deleted_at IS NULL;

-- The stop point. Shared mode, so any number of sessions can pass together once
-- the holder of the exclusive lock lets go.
CREATE FUNCTION crm_lab.gate(p_gate bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_gate IS NOT NULL THEN
        PERFORM pg_advisory_lock_shared(p_gate);
        PERFORM pg_advisory_unlock_shared(p_gate);
    END IF;
END;
$$;

-- -----------------------------------------------------------------------------
-- Deadlocks: moving points between two customers
-- -----------------------------------------------------------------------------

-- BROKEN: locks the rows in the order of the arguments. T1 moves A->B, T2 B->C,
-- T3 C->A: each holds its source row and waits for the next one's: a cycle of
-- three. The deadlock detector (after deadlock_timeout) aborts one of them with
-- SQLSTATE 40P01; the other two then finish.
CREATE FUNCTION crm_lab.transfer_points_broken(p_from uuid, p_to uuid, p_points bigint, p_gate bigint DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE crm_lab.loyalty_accounts
    SET points = points - p_points, version = version + 1
    WHERE customer_id = p_from;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no loyalty account for customer %', p_from USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM crm_lab.gate(p_gate);
    UPDATE crm_lab.loyalty_accounts
    SET points = points + p_points, version = version + 1
    WHERE customer_id = p_to;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no loyalty account for customer %', p_to USING ERRCODE = 'no_data_found';
    END IF;
END;
$$;

-- FIXED: the same two updates, but both rows are locked first, in one global
-- order (customer_id). Every transaction that needs A and B asks for the smaller
-- id first, so no session can hold a later row while waiting for an earlier
-- one: waits form a line, never a cycle.
CREATE FUNCTION crm_lab.transfer_points_fixed(p_from uuid, p_to uuid, p_points bigint, p_gate bigint DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    locked integer;
BEGIN
    SELECT count(*) INTO locked
    FROM (
        SELECT a.customer_id
        FROM crm_lab.loyalty_accounts AS a
        WHERE a.customer_id IN (p_from, p_to)
        ORDER BY a.customer_id
        FOR UPDATE
    ) AS l;
    IF locked <> 2 THEN
        RAISE EXCEPTION 'no loyalty account for customer % or %', p_from, p_to USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM crm_lab.gate(p_gate);
    UPDATE crm_lab.loyalty_accounts
    SET points = points - p_points, version = version + 1
    WHERE customer_id = p_from;
    UPDATE crm_lab.loyalty_accounts
    SET points = points + p_points, version = version + 1
    WHERE customer_id = p_to;
END;
$$;

-- FIXED for clients that cannot all be changed at once (two applications on
-- two computers, one still locking in argument order): the work runs in a
-- subtransaction; when this session is chosen as the deadlock victim, only the
-- subtransaction is rolled back (its locks go with it, so the other side
-- proceeds) and the work is tried again, up to p_attempts times. Returns the
-- attempt that succeeded. The caller's earlier work in the transaction is kept.
CREATE FUNCTION crm_lab.transfer_points_retrying(
    p_from uuid, p_to uuid, p_points bigint, p_gate bigint DEFAULT NULL, p_attempts integer DEFAULT 3
) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    attempt integer := 0;
BEGIN
    LOOP
        attempt := attempt + 1;
        BEGIN
            -- The gate only lines up the first attempt; a retry must not wait again.
            PERFORM crm_lab.transfer_points_broken(p_from, p_to, p_points, CASE WHEN attempt = 1 THEN p_gate END);
            RETURN attempt;
        EXCEPTION WHEN deadlock_detected THEN
            IF attempt >= p_attempts THEN
                RAISE;
            END IF;
            RAISE NOTICE 'deadlock victim on attempt %, retrying', attempt;
            -- A short, growing pause lets the winner commit before we ask again.
            PERFORM pg_sleep(0.05 * attempt);
        END;
    END LOOP;
END;
$$;

-- -----------------------------------------------------------------------------
-- Incorrect summary (inconsistent analysis)
-- -----------------------------------------------------------------------------

-- BROKEN: the report totals points segment by segment, one statement per
-- segment. Under READ COMMITTED every statement takes a new snapshot, so a
-- transfer that commits between two of them is seen half: points moved from a
-- segment already counted to one not yet counted are counted twice (or, the
-- other way round, not at all). The gate sits after the first segment.
CREATE FUNCTION crm_lab.points_total_broken(p_gate bigint DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    seg text;
    total bigint := 0;
    first boolean := true;
BEGIN
    FOR seg IN SELECT DISTINCT a.segment FROM crm_lab.loyalty_accounts AS a ORDER BY a.segment LOOP
        total := total + (SELECT coalesce(sum(a.points), 0) FROM crm_lab.loyalty_accounts AS a WHERE a.segment = seg);
        IF first THEN
            PERFORM crm_lab.gate(p_gate);
            first := false;
        END IF;
    END LOOP;
    RETURN total;
END;
$$;

-- FIXED: the same statements, read from one snapshot. REPEATABLE READ fixes the
-- snapshot at the transaction's first statement, so every segment is read as of
-- the same moment and the total is one the data really had. The isolation level
-- belongs to the transaction and must be set before its first query, so the
-- function insists on it instead of silently giving a wrong answer.
CREATE FUNCTION crm_lab.points_total_fixed(p_gate bigint DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    seg text;
    total bigint := 0;
    first boolean := true;
BEGIN
    IF current_setting('transaction_isolation') NOT IN ('repeatable read', 'serializable') THEN
        RAISE EXCEPTION 'points_total_fixed needs one snapshot: run it in a REPEATABLE READ transaction'
            USING ERRCODE = 'invalid_transaction_state',
                  HINT = 'START TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY;';
    END IF;
    FOR seg IN SELECT DISTINCT a.segment FROM crm_lab.loyalty_accounts AS a ORDER BY a.segment LOOP
        total := total + (SELECT coalesce(sum(a.points), 0) FROM crm_lab.loyalty_accounts AS a WHERE a.segment = seg);
        IF first THEN
            PERFORM crm_lab.gate(p_gate);
            first := false;
        END IF;
    END LOOP;
    RETURN total;
END;
$$;

-- -----------------------------------------------------------------------------
-- Lost update
-- -----------------------------------------------------------------------------

-- BROKEN: read, compute in the client (here, a variable), write back. Two
-- sessions read 1000, both write 1000 + their points: the first write is lost.
-- The second UPDATE does wait for the first's row lock, but it writes the value
-- it computed from its stale read.
CREATE FUNCTION crm_lab.add_points_broken(p_customer uuid, p_points bigint, p_gate bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    current_points bigint;
BEGIN
    SELECT a.points INTO current_points FROM crm_lab.loyalty_accounts AS a WHERE a.customer_id = p_customer;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no loyalty account for customer %', p_customer USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM crm_lab.gate(p_gate);
    UPDATE crm_lab.loyalty_accounts
    SET points = current_points + p_points, version = version + 1
    WHERE customer_id = p_customer;
    RETURN current_points + p_points;
END;
$$;

-- FIXED (pessimistic): SELECT ... FOR UPDATE takes the row lock at the read, so
-- the second session waits before reading and then reads the first one's
-- committed value (READ COMMITTED re-reads the newest row version after a lock
-- wait).
CREATE FUNCTION crm_lab.add_points_fixed(p_customer uuid, p_points bigint, p_gate bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    current_points bigint;
BEGIN
    SELECT a.points INTO current_points
    FROM crm_lab.loyalty_accounts AS a
    WHERE a.customer_id = p_customer
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no loyalty account for customer %', p_customer USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM crm_lab.gate(p_gate);
    UPDATE crm_lab.loyalty_accounts
    SET points = current_points + p_points, version = version + 1
    WHERE customer_id = p_customer;
    RETURN current_points + p_points;
END;
$$;

-- FIXED (optimistic): no lock at the read; the write succeeds only if the row is
-- still at the version the caller read. Returns the new version, or NULL when
-- someone else wrote first: the caller re-reads and tries again. Suits a user
-- editing a form for minutes, where holding a lock is not an option.
CREATE FUNCTION crm_lab.add_points_optimistic(
    p_customer uuid, p_points bigint, p_expected_version integer, p_gate bigint DEFAULT NULL
) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    new_version integer;
BEGIN
    PERFORM crm_lab.gate(p_gate);
    UPDATE crm_lab.loyalty_accounts
    SET points = points + p_points, version = version + 1
    WHERE customer_id = p_customer AND version = p_expected_version
    RETURNING version INTO new_version;
    RETURN new_version;
END;
$$;

-- -----------------------------------------------------------------------------
-- Dirty read
-- -----------------------------------------------------------------------------

-- The read a report makes. In SQL Server, called at READ UNCOMMITTED (or with
-- NOLOCK) it can return a value another transaction has written and then rolls
-- back. PostgreSQL accepts READ UNCOMMITTED but runs it as READ COMMITTED: a
-- snapshot never contains uncommitted rows, so this function returns only
-- committed points at any isolation level.
CREATE FUNCTION crm_lab.read_points(p_customer uuid) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT a.points FROM crm_lab.loyalty_accounts AS a WHERE a.customer_id = p_customer;
$$;
