-- =============================================================================
-- 04_logging.sql: an operations log and the procedure every CRM job writes it
-- with (severity, source, message, context as JSON, who). SQL Server 2022.
-- PostgreSQL twin (run by the tests): sql/crm/postgres/scripts/04_logging.sql.
--
-- Why a procedure: one place validates (known severity, a dotted source name,
-- a non-blank message, a JSON object as context), stamps the time and the
-- caller, and keeps personal data out: plaintext PII never reaches the store,
-- so a context with a key such as "email" or "national_id" is refused.
--
-- Errors: THROW 51000 with 'field|rule|text' (51000-51099 are invalid input,
-- as in the ads procedures); the twin raises SQLSTATE PC001. Nothing is written
-- when the input is refused.
--
-- A log row must outlive the failure it describes. A caller logs from its CATCH
-- block AFTER its ROLLBACK (or keeps the entry in a table variable, which a
-- rollback does not empty, and logs it then); logging inside the transaction
-- that fails would be rolled back with it. The demo at the end does exactly that.
--
-- What to look at: the last SELECT shows the rows logged by the demo, the
-- warning and the error the failed batch logged after rolling back.
--
-- Run: sqlcmd -d PromptCrm -i sql/crm/mssql/scripts/04_logging.sql
-- =============================================================================

SET NOCOUNT ON;
SET XACT_ABORT ON;
SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;
GO

IF OBJECT_ID(N'crm.operation_log', N'U') IS NULL
BEGIN
    CREATE TABLE crm.operation_log (
        id          BIGINT IDENTITY (1, 1) NOT NULL,
        logged_at   DATETIMEOFFSET(3)      NOT NULL CONSTRAINT operation_log_logged_at_df DEFAULT SYSUTCDATETIME(),
        severity    VARCHAR(8)             NOT NULL,
        source      VARCHAR(128)           NOT NULL,
        message     NVARCHAR(4000)         NOT NULL,
        context     NVARCHAR(MAX)          NOT NULL CONSTRAINT operation_log_context_df DEFAULT N'{}',
        logged_by   NVARCHAR(128)          NOT NULL,
        application NVARCHAR(128)          NULL,
        CONSTRAINT operation_log_pkey PRIMARY KEY CLUSTERED (id),
        CONSTRAINT operation_log_severity_check
        CHECK (severity IN ('debug', 'info', 'warning', 'error', 'critical')),
        CONSTRAINT operation_log_message_check CHECK (LEN(message) > 0),
        CONSTRAINT operation_log_context_check CHECK (ISJSON(context, OBJECT) = 1),
        CONSTRAINT operation_log_logged_by_check CHECK (LEN(logged_by) > 0)
    );
    CREATE INDEX operation_log_logged_at_idx ON crm.operation_log (logged_at);
    CREATE INDEX operation_log_source_logged_at_idx ON crm.operation_log (source, logged_at);
    CREATE INDEX operation_log_problems_idx ON crm.operation_log (logged_at)
    WHERE severity IN ('error', 'critical');
END;
GO

CREATE OR ALTER PROCEDURE crm.PRCRMSP_WriteLog
    @Severity VARCHAR(20),
    @Source VARCHAR(200),
    @Message NVARCHAR(MAX),
    @Context NVARCHAR(MAX) = NULL,
    @Who NVARCHAR(128) = NULL,
    @LogId BIGINT = NULL OUTPUT
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;

    DECLARE @severity_norm VARCHAR(8) = LOWER(LTRIM(RTRIM(@Severity)));
    DECLARE @context_norm NVARCHAR(MAX) = COALESCE(@Context, N'{}');
    DECLARE @pii_key NVARCHAR(200);
    DECLARE @msg NVARCHAR(2048);

    BEGIN TRY
        IF @severity_norm IS NULL OR @severity_norm NOT IN ('debug', 'info', 'warning', 'error', 'critical')
        BEGIN
            SET @msg = N'severity|one_of|severity is one of debug, info, warning, error, critical';
            THROW 51000, @msg, 1;
        END;
        IF
            @Source IS NULL
            OR LEN(@Source) > 128
            OR @Source COLLATE Latin1_General_100_BIN2 NOT LIKE '[a-z]%'
            OR @Source COLLATE Latin1_General_100_BIN2 LIKE '%[^a-z0-9_.]%'
            OR @Source LIKE '%..%'
            OR @Source LIKE '%.'
        BEGIN
            SET @msg = N'source|format|source is dotted snake_case, e.g. crm.etl.customers, at most 128 characters';
            THROW 51000, @msg, 1;
        END;
        IF @Message IS NULL OR LEN(@Message) = 0 OR LEN(@Message) > 4000
        BEGIN
            SET @msg = N'message|required|a log message is required, at most 4000 characters';
            THROW 51000, @msg, 1;
        END;
        IF ISJSON(@context_norm, OBJECT) = 0
        BEGIN
            SET @msg = N'context|object|the context must be a JSON object';
            THROW 51000, @msg, 1;
        END;

        -- Keys that name personal data, at any depth: refuse, do not store.
        WITH walk AS (
            SELECT
                j.[key] AS k,
                j.[value] AS v,
                j.[type] AS t
            FROM OPENJSON(@context_norm) AS j
            UNION ALL
            SELECT
                c.[key],
                c.[value],
                c.[type]
            FROM walk AS w
            CROSS APPLY OPENJSON(w.v) AS c
            WHERE w.t IN (4, 5)
        )

        SELECT TOP (1) @pii_key = w.k
        FROM walk AS w
        WHERE LOWER(w.k) IN (N'email', N'e_mail', N'phone', N'national_id', N'nationalid', N'password', N'birth_date');
        IF @pii_key IS NOT NULL
        BEGIN
            SET @msg = CONCAT(N'context|personal_data|the context carries personal data (', @pii_key, N'): log ids, not values');
            THROW 51000, @msg, 1;
        END;

        INSERT INTO crm.operation_log (severity, source, message, context, logged_by, application)
        VALUES (
            @severity_norm,
            @Source,
            @Message,
            @context_norm,
            COALESCE(NULLIF(LTRIM(RTRIM(@Who)), N''), ORIGINAL_LOGIN()),
            APP_NAME()
        );
        SET @LogId = SCOPE_IDENTITY();
    END TRY
    BEGIN CATCH
        -- The procedure opens no transaction of its own; the caller's, if any, is its to end.
        THROW;
    END CATCH;
END;
GO

-- Demo: a job logs its start, fails inside a transaction, rolls back, and only
-- then logs the error, so the entry survives.
DECLARE @id BIGINT;
EXEC crm.PRCRMSP_WriteLog
    @Severity = 'info',
    @Source = 'crm.scripts.logging',
    @Message = N'segment refresh started',
    @Context = N'{"script": "04_logging.sql"}',
    @LogId = @id OUTPUT;

BEGIN TRY
    BEGIN TRANSACTION;
    UPDATE crm.customers SET segment = 'not-a-segment'
    WHERE id = (SELECT TOP (1) c.id FROM crm.customers AS c ORDER BY c.id);
    COMMIT TRANSACTION;
END TRY
BEGIN CATCH
    IF XACT_STATE() <> 0 ROLLBACK TRANSACTION;
    DECLARE @error NVARCHAR(4000) = ERROR_MESSAGE();
    DECLARE @ctx NVARCHAR(MAX) = (
        SELECT
            ERROR_NUMBER() AS error_number,
            ERROR_PROCEDURE() AS error_procedure,
            ERROR_LINE() AS error_line
        FOR JSON PATH, WITHOUT_ARRAY_WRAPPER
    );
    EXEC crm.PRCRMSP_WriteLog
        @Severity = 'error',
        @Source = 'crm.scripts.logging',
        @Message = @error,
        @Context = @ctx,
        @Who = N'segment-refresh-job';
END CATCH;

SELECT TOP (5)
    id,
    logged_at,
    severity,
    source,
    message,
    context,
    logged_by
FROM crm.operation_log
ORDER BY id DESC;
GO
