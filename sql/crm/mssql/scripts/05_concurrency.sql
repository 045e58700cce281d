-- =============================================================================
-- 05_concurrency.sql: five concurrency problems as paired procedures, the
-- broken one and the fixed one doing the same work on the same rows.
-- SQL Server 2022. PostgreSQL twin (driven by the Rust tests):
-- sql/crm/postgres/scripts/05_concurrency.sql.
--
-- The work: customers' loyalty points (crm_lab.loyalty_accounts, 1000 each).
--
-- | problem                        | broken                      | fixed                                     |
-- |--------------------------------|-----------------------------|-------------------------------------------|
-- | deadlock in cascade (3 tx)     | PRCRMSP_TransferPointsBroken| PRCRMSP_TransferPointsFixed (lock order)  |
-- | deadlock, two client computers | PRCRMSP_TransferPointsBroken| PRCRMSP_TransferPointsFixed, and          |
-- |                                |                             | PRCRMSP_TransferPointsRetrying (1205)     |
-- | incorrect summary              | PRCRMSP_PointsTotalBroken   | PRCRMSP_PointsTotalFixed (SNAPSHOT)       |
-- | lost update                    | PRCRMSP_AddPointsBroken     | PRCRMSP_AddPointsFixed (UPDLOCK),         |
-- |                                |                             | PRCRMSP_AddPointsOptimistic (version)     |
-- | dirty read                     | PRCRMSP_ReadPointsDirty     | PRCRMSP_ReadPointsCommitted               |
--
-- The gate: each procedure takes an optional @Gate (an application lock name).
-- When given, the procedure stops at its critical point until the session that
-- holds that applock exclusively releases it, so a demo lines the sessions up
-- the same way every run:
--     -- session 0 (the conductor)
--     EXEC sp_getapplock @Resource = N'crm-demo', @LockMode = 'Exclusive', @LockOwner = 'Session';
--     -- sessions 1..n: EXEC crm_lab.PRCRMSP_... @Gate = N'crm-demo';  (they wait)
--     -- session 0, once all wait (sys.dm_tran_locks, resource_type APPLICATION):
--     EXEC sp_releaseapplock @Resource = N'crm-demo', @LockOwner = 'Session';
--
-- How to run each demo (three sqlcmd windows are enough; for the two-computer
-- deadlock run the two clients on two machines against the same server):
--   * three-way deadlock: sessions 1-3 BEGIN TRAN and call TransferPointsBroken
--     A->B, B->C, C->A with the gate; open it. One session gets error 1205
--     ("chosen as the deadlock victim"), the others finish. The graph is in the
--     system_health session (query at the end). With TransferPointsFixed: none.
--   * two computers: the same with two clients, A->B and B->A. sys.dm_exec_connections
--     shows two client_net_address values. TransferPointsRetrying survives it:
--     the victim's procedure rolls back, waits and tries again.
--   * incorrect summary: session 1 calls PointsTotalBroken with the gate; when it
--     waits, session 2 calls TransferPointsFixed from the first segment to the
--     last and commits; open the gate: the total is 10 too high. PointsTotalFixed
--     (SNAPSHOT) returns the true total.
--   * lost update: sessions 1 and 2 call AddPointsBroken (+10) on one customer
--     with the gate: the balance grows by 10, not 20. AddPointsFixed: 20.
--   * dirty read: session 1 BEGIN TRAN; UPDATE ... points + 5000 (no commit);
--     session 2 PRCRMSP_ReadPointsDirty sees the +5000; session 1 ROLLBACK: the
--     value session 2 saw never existed. PRCRMSP_ReadPointsCommitted waits for
--     the row (or, with READ_COMMITTED_SNAPSHOT ON, reads the committed version).
--
-- Needs: ALTER DATABASE PromptCrm SET ALLOW_SNAPSHOT_ISOLATION ON (for the
-- fixed summary; the script turns it on).
-- Run: sqlcmd -d PromptCrm -i sql/crm/mssql/scripts/05_concurrency.sql
-- =============================================================================

SET NOCOUNT ON;
SET XACT_ABORT ON;
SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;
GO

IF SCHEMA_ID(N'crm_lab') IS NULL EXEC (N'CREATE SCHEMA crm_lab AUTHORIZATION dbo;');
GO

IF OBJECT_ID(N'crm_lab.loyalty_accounts', N'U') IS NOT NULL DROP TABLE crm_lab.loyalty_accounts;
CREATE TABLE crm_lab.loyalty_accounts (
    customer_id UNIQUEIDENTIFIER NOT NULL,
    segment     VARCHAR(16)      NOT NULL,
    points      BIGINT           NOT NULL,
    -- Optimistic concurrency: every write bumps it; a writer says which version it read.
    version     INT              NOT NULL CONSTRAINT loyalty_accounts_version_df DEFAULT 1,
    CONSTRAINT loyalty_accounts_pkey PRIMARY KEY CLUSTERED (customer_id),
    CONSTRAINT loyalty_accounts_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES crm.customers (id),
    CONSTRAINT loyalty_accounts_points_check CHECK (points >= 0)
);
CREATE INDEX loyalty_accounts_segment_idx ON crm_lab.loyalty_accounts (segment) INCLUDE (points);

INSERT INTO crm_lab.loyalty_accounts (customer_id, segment, points)
SELECT
    c.id,
    c.segment,
    1000
FROM crm.customers AS c
WHERE c.deleted_at IS NULL;
GO

-- The fixed summary reads under SNAPSHOT isolation, which the database must allow.
IF NOT EXISTS (SELECT 1 FROM sys.databases WHERE database_id = DB_ID() AND snapshot_isolation_state = 1)
    ALTER DATABASE CURRENT SET ALLOW_SNAPSHOT_ISOLATION ON;
GO

-- The stop point: wait for the conductor's exclusive applock, then go on.
CREATE OR ALTER PROCEDURE crm_lab.PRCRMSP_Gate
    @Gate NVARCHAR(255)
AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @rc INT;
    IF @Gate IS NULL RETURN;
    EXEC @rc = sp_getapplock
        @Resource = @Gate, @LockMode = 'Shared', @LockOwner = 'Session', @LockTimeout = 60000;
    IF @rc < 0
        THROW 51190, N'gate|timeout|the gate stayed closed for 60 s', 1;
    EXEC sp_releaseapplock @Resource = @Gate, @LockOwner = 'Session';
END;
GO

-- -----------------------------------------------------------------------------
-- Deadlocks: moving points between two customers
-- -----------------------------------------------------------------------------

-- BROKEN: locks the rows in argument order. A->B, B->C, C->A each hold their
-- source row and wait for the next: a cycle. The lock monitor (every 5 s, down
-- to 100 ms while deadlocks keep occurring) picks the cheapest transaction to
-- roll back as the victim (error 1205) unless DEADLOCK_PRIORITY says otherwise.
CREATE OR ALTER PROCEDURE crm_lab.PRCRMSP_TransferPointsBroken
    @From UNIQUEIDENTIFIER,
    @To UNIQUEIDENTIFIER,
    @Points BIGINT,
    @Gate NVARCHAR(255) = NULL
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    BEGIN TRY
        BEGIN TRANSACTION;
        UPDATE crm_lab.loyalty_accounts
        SET points = points - @Points, version = version + 1
        WHERE customer_id = @From;
        IF @@ROWCOUNT = 0 THROW 51104, N'from|unknown|no loyalty account for that customer', 1;
        EXEC crm_lab.PRCRMSP_Gate @Gate = @Gate;
        UPDATE crm_lab.loyalty_accounts
        SET points = points + @Points, version = version + 1
        WHERE customer_id = @To;
        IF @@ROWCOUNT = 0 THROW 51104, N'to|unknown|no loyalty account for that customer', 1;
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF XACT_STATE() <> 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
END;
GO

-- FIXED: both rows are locked first, in one global order (customer_id), with
-- UPDLOCK (update locks are not compatible with each other, so two transfers
-- touching a row queue instead of both reading and then both converting) and
-- HOLDLOCK (kept to the end of the transaction). Waits form a line, never a cycle.
CREATE OR ALTER PROCEDURE crm_lab.PRCRMSP_TransferPointsFixed
    @From UNIQUEIDENTIFIER,
    @To UNIQUEIDENTIFIER,
    @Points BIGINT,
    @Gate NVARCHAR(255) = NULL
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @locked INT;
    DECLARE @first UNIQUEIDENTIFIER = CASE WHEN @From < @To THEN @From ELSE @To END;
    DECLARE @second UNIQUEIDENTIFIER = CASE WHEN @From < @To THEN @To ELSE @From END;
    BEGIN TRY
        BEGIN TRANSACTION;
        -- One statement per row, in order: a single IN (...) seek does not promise an order.
        SELECT @locked = COUNT(*) FROM crm_lab.loyalty_accounts WITH (UPDLOCK, HOLDLOCK, ROWLOCK)
        WHERE customer_id = @first;
        SELECT @locked = @locked + COUNT(*) FROM crm_lab.loyalty_accounts WITH (UPDLOCK, HOLDLOCK, ROWLOCK)
        WHERE customer_id = @second;
        IF @locked <> 2 THROW 51104, N'from|unknown|no loyalty account for one of the customers', 1;
        EXEC crm_lab.PRCRMSP_Gate @Gate = @Gate;
        UPDATE crm_lab.loyalty_accounts SET points = points - @Points, version = version + 1
        WHERE customer_id = @From;
        UPDATE crm_lab.loyalty_accounts SET points = points + @Points, version = version + 1
        WHERE customer_id = @To;
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF XACT_STATE() <> 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
END;
GO

-- FIXED for clients that cannot all be changed at once (another application on
-- another computer still locks in argument order): retry when chosen as the
-- deadlock victim. 1205 rolls the whole transaction back, so the retry loop must
-- own the transaction: the procedure refuses to run inside a caller's one.
CREATE OR ALTER PROCEDURE crm_lab.PRCRMSP_TransferPointsRetrying
    @From UNIQUEIDENTIFIER,
    @To UNIQUEIDENTIFIER,
    @Points BIGINT,
    @Gate NVARCHAR(255) = NULL,
    @Attempts INT = 3,
    @Attempt INT = NULL OUTPUT
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @gate_now NVARCHAR(255);
    DECLARE @delay CHAR(12);
    IF @@TRANCOUNT > 0
        THROW 51000, N'transaction|none|call it outside a transaction: a deadlock victim loses the whole transaction', 1;
    SET @Attempt = 0;
    WHILE 1 = 1
    BEGIN
        SET @Attempt = @Attempt + 1;
        -- The gate only lines up the first attempt.
        SET @gate_now = CASE WHEN @Attempt = 1 THEN @Gate END;
        BEGIN TRY
            EXEC crm_lab.PRCRMSP_TransferPointsBroken
                @From = @From, @To = @To, @Points = @Points, @Gate = @gate_now;
            RETURN;
        END TRY
        BEGIN CATCH
            IF XACT_STATE() <> 0 ROLLBACK TRANSACTION;
            IF ERROR_NUMBER() <> 1205 OR @Attempt >= @Attempts THROW;
            PRINT CONCAT(N'deadlock victim on attempt ', @Attempt, N', retrying');
            -- A short, growing pause lets the winner commit first.
            SET @delay = CONCAT('00:00:00.', RIGHT(CONCAT('000', 50 * @Attempt), 3));
            WAITFOR DELAY @delay;
        END CATCH;
    END;
END;
GO

-- -----------------------------------------------------------------------------
-- Incorrect summary (inconsistent analysis)
-- -----------------------------------------------------------------------------

-- BROKEN: totals segment by segment under READ COMMITTED. Shared locks are
-- released row by row, so a transfer that commits between two segments is seen
-- half: moved points are counted twice (or not at all).
CREATE OR ALTER PROCEDURE crm_lab.PRCRMSP_PointsTotalBroken
    @Gate NVARCHAR(255) = NULL,
    @Total BIGINT = NULL OUTPUT
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
    DECLARE @segment VARCHAR(16) = '';
    DECLARE @first BIT = 1;
    SET @Total = 0;
    WHILE 1 = 1
    BEGIN
        SELECT @segment = MIN(a.segment) FROM crm_lab.loyalty_accounts AS a WHERE a.segment > @segment;
        IF @segment IS NULL BREAK;
        SELECT @Total = @Total + COALESCE(SUM(a.points), 0)
        FROM crm_lab.loyalty_accounts AS a WHERE a.segment = @segment;
        IF @first = 1
        BEGIN
            EXEC crm_lab.PRCRMSP_Gate @Gate = @Gate;
            SET @first = 0;
        END;
    END;
    SELECT @Total AS points_total;
END;
GO

-- FIXED: the same reads in one SNAPSHOT transaction: every statement sees the
-- database as of the transaction's first read, writers are not blocked, and the
-- total is one the data really had. (REPEATABLE READ would not do: it keeps the
-- rows already read locked but lets a transfer move points into a segment not
-- read yet; SERIALIZABLE would, by blocking the writers.)
CREATE OR ALTER PROCEDURE crm_lab.PRCRMSP_PointsTotalFixed
    @Gate NVARCHAR(255) = NULL,
    @Total BIGINT = NULL OUTPUT
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @segment VARCHAR(16) = '';
    DECLARE @first BIT = 1;
    IF @@TRANCOUNT > 0
        THROW 51000, N'transaction|none|the summary opens its own SNAPSHOT transaction', 1;
    SET TRANSACTION ISOLATION LEVEL SNAPSHOT;
    BEGIN TRY
        BEGIN TRANSACTION;
        SET @Total = 0;
        WHILE 1 = 1
        BEGIN
            SELECT @segment = MIN(a.segment) FROM crm_lab.loyalty_accounts AS a WHERE a.segment > @segment;
            IF @segment IS NULL BREAK;
            SELECT @Total = @Total + COALESCE(SUM(a.points), 0)
            FROM crm_lab.loyalty_accounts AS a WHERE a.segment = @segment;
            IF @first = 1
            BEGIN
                EXEC crm_lab.PRCRMSP_Gate @Gate = @Gate;
                SET @first = 0;
            END;
        END;
        COMMIT TRANSACTION;
        SELECT @Total AS points_total;
    END TRY
    BEGIN CATCH
        IF XACT_STATE() <> 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
END;
GO

-- -----------------------------------------------------------------------------
-- Lost update
-- -----------------------------------------------------------------------------

-- BROKEN: read into a variable, write back the computed value. Two sessions
-- read 1000 and both write 1010.
CREATE OR ALTER PROCEDURE crm_lab.PRCRMSP_AddPointsBroken
    @Customer UNIQUEIDENTIFIER,
    @Points BIGINT,
    @Gate NVARCHAR(255) = NULL
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @current BIGINT;
    BEGIN TRY
        BEGIN TRANSACTION;
        SELECT @current = a.points FROM crm_lab.loyalty_accounts AS a WHERE a.customer_id = @Customer;
        IF @current IS NULL THROW 51104, N'customer|unknown|no loyalty account for that customer', 1;
        EXEC crm_lab.PRCRMSP_Gate @Gate = @Gate;
        UPDATE crm_lab.loyalty_accounts SET points = @current + @Points, version = version + 1
        WHERE customer_id = @Customer;
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF XACT_STATE() <> 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
END;
GO

-- FIXED (pessimistic): UPDLOCK at the read, HOLDLOCK to the end: the second
-- session waits at its read and then reads the first one's result.
CREATE OR ALTER PROCEDURE crm_lab.PRCRMSP_AddPointsFixed
    @Customer UNIQUEIDENTIFIER,
    @Points BIGINT,
    @Gate NVARCHAR(255) = NULL
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @current BIGINT;
    BEGIN TRY
        BEGIN TRANSACTION;
        SELECT @current = a.points
        FROM crm_lab.loyalty_accounts AS a WITH (UPDLOCK, HOLDLOCK, ROWLOCK)
        WHERE a.customer_id = @Customer;
        IF @current IS NULL THROW 51104, N'customer|unknown|no loyalty account for that customer', 1;
        EXEC crm_lab.PRCRMSP_Gate @Gate = @Gate;
        UPDATE crm_lab.loyalty_accounts SET points = @current + @Points, version = version + 1
        WHERE customer_id = @Customer;
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF XACT_STATE() <> 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
END;
GO

-- FIXED (optimistic): no lock held while the user thinks; the write applies
-- only at the version the caller read. @NewVersion NULL: someone else wrote
-- first, re-read and try again.
CREATE OR ALTER PROCEDURE crm_lab.PRCRMSP_AddPointsOptimistic
    @Customer UNIQUEIDENTIFIER,
    @Points BIGINT,
    @ExpectedVersion INT,
    @Gate NVARCHAR(255) = NULL,
    @NewVersion INT = NULL OUTPUT
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @written TABLE (version INT NOT NULL);
    EXEC crm_lab.PRCRMSP_Gate @Gate = @Gate;
    UPDATE crm_lab.loyalty_accounts
    SET points = points + @Points, version = version + 1
    OUTPUT inserted.version INTO @written (version)
    WHERE customer_id = @Customer AND version = @ExpectedVersion;
    SET @NewVersion = (SELECT w.version FROM @written AS w);
END;
GO

-- -----------------------------------------------------------------------------
-- Dirty read
-- -----------------------------------------------------------------------------

-- BROKEN: READ UNCOMMITTED (what NOLOCK hints do) reads rows other sessions
-- have written and not committed, and may yet roll back.
CREATE OR ALTER PROCEDURE crm_lab.PRCRMSP_ReadPointsDirty
    @Customer UNIQUEIDENTIFIER
AS
BEGIN
    SET NOCOUNT ON;
    SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED;
    SELECT a.points FROM crm_lab.loyalty_accounts AS a WHERE a.customer_id = @Customer;
END;
GO

-- FIXED: READ COMMITTED. With READ_COMMITTED_SNAPSHOT ON (the PromptCrm
-- setting for reporting replicas) the read returns the last committed version
-- without waiting; with it OFF it waits for the writer to finish.
CREATE OR ALTER PROCEDURE crm_lab.PRCRMSP_ReadPointsCommitted
    @Customer UNIQUEIDENTIFIER
AS
BEGIN
    SET NOCOUNT ON;
    SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
    SELECT a.points FROM crm_lab.loyalty_accounts AS a WHERE a.customer_id = @Customer;
END;
GO

-- -----------------------------------------------------------------------------
-- After a deadlock demo: the deadlock graphs the system_health session kept
-- (victim, processes, the resources each held and wanted).
-- -----------------------------------------------------------------------------
SELECT TOP (10)
    x.event_data.value('(event/@timestamp)[1]', 'datetime2(3)') AS occurred_at_utc,
    x.event_data.query('(event/data[@name="xml_report"]/value/deadlock)[1]') AS deadlock_graph
FROM (
    SELECT CAST(f.event_data AS XML) AS event_data
    FROM sys.fn_xe_file_target_read_file(N'system_health*.xel', NULL, NULL, NULL) AS f
    WHERE f.object_name = N'xml_deadlock_report'
) AS x
ORDER BY occurred_at_utc DESC;
GO
