-- =============================================================================
-- 04_logging.sql: an operations log and the procedure every CRM job writes it
-- with (severity, source, message, context as JSON, who).
-- PostgreSQL 15 twin of sql/crm/mssql/scripts/04_logging.sql.
--
-- Why a procedure and not INSERTs scattered through jobs: one place validates
-- (known severity, a source name, a non-blank message, a JSON object as
-- context), stamps the time and the caller, and keeps personal data out. The
-- log is read by people and copied to other systems, and plaintext PII never
-- reaches the store (sql/crm/README.md): a context with a key such as "email"
-- or "national_id" is refused rather than stored.
--
-- Errors: invalid input raises SQLSTATE PC001 with the field in DETAIL and the
-- rule in HINT (as the ads procedures do with PA001), before anything is
-- written.
--
-- What to look at: the last SELECT shows the two rows the script logged, with
-- who logged them (session_user unless the caller names someone, e.g. the end
-- user a service acts for) and the context as jsonb.
--
-- Run: psql -X -v ON_ERROR_STOP=1 -d promptcrm -f sql/crm/postgres/scripts/04_logging.sql
-- It creates crm.operation_log and crm.prcrmsp_write_log if they are missing and
-- logs two sample rows.
-- =============================================================================

CREATE TABLE IF NOT EXISTS crm.operation_log (
    id          bigint      GENERATED ALWAYS AS IDENTITY,   -- SQL Server: BIGINT IDENTITY
    logged_at   timestamptz NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    severity    text        NOT NULL,                       -- SQL Server: VARCHAR(8)
    source      text        NOT NULL,                       -- SQL Server: VARCHAR(128)
    message     text        NOT NULL,                       -- SQL Server: NVARCHAR(4000)
    context     jsonb       NOT NULL DEFAULT '{}',          -- SQL Server: NVARCHAR(MAX) CHECK ISJSON
    logged_by   text        NOT NULL,                       -- SQL Server: NVARCHAR(128)
    application text,                                       -- SQL Server: NVARCHAR(128)
    CONSTRAINT operation_log_pkey PRIMARY KEY (id),
    CONSTRAINT operation_log_severity_check
        CHECK (severity IN ('debug', 'info', 'warning', 'error', 'critical')),
    CONSTRAINT operation_log_source_check CHECK (source ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$' AND char_length(source) <= 128),
    CONSTRAINT operation_log_message_check CHECK (btrim(message) <> '' AND char_length(message) <= 4000),
    CONSTRAINT operation_log_context_check CHECK (jsonb_typeof(context) = 'object'),
    CONSTRAINT operation_log_logged_by_check CHECK (btrim(logged_by) <> '' AND char_length(logged_by) <= 128)
);

COMMENT ON TABLE crm.operation_log IS
    'Operations log of CRM jobs and scripts, written through crm.prcrmsp_write_log. No personal data.';

-- The usual reads: the latest entries, and the errors of a period.
CREATE INDEX IF NOT EXISTS operation_log_logged_at_idx ON crm.operation_log (logged_at);
CREATE INDEX IF NOT EXISTS operation_log_source_logged_at_idx ON crm.operation_log (source, logged_at);
CREATE INDEX IF NOT EXISTS operation_log_problems_idx ON crm.operation_log (logged_at)
    WHERE severity IN ('error', 'critical');

CREATE OR REPLACE PROCEDURE crm.prcrmsp_write_log(
    p_severity text,
    p_source   text,
    p_message  text,
    p_context  jsonb DEFAULT '{}',
    p_who      text DEFAULT NULL,
    INOUT p_log_id bigint DEFAULT NULL
)
LANGUAGE plpgsql AS $$
DECLARE
    severity text := lower(btrim(p_severity));
    pii_key text;
BEGIN
    IF severity IS NULL OR severity NOT IN ('debug', 'info', 'warning', 'error', 'critical') THEN
        RAISE EXCEPTION 'invalid severity %', coalesce(p_severity, 'NULL')
            USING ERRCODE = 'PC001', DETAIL = 'severity', HINT = 'one of debug, info, warning, error, critical';
    END IF;
    IF p_source IS NULL OR p_source !~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$' OR char_length(p_source) > 128 THEN
        RAISE EXCEPTION 'invalid source %', coalesce(p_source, 'NULL')
            USING ERRCODE = 'PC001', DETAIL = 'source', HINT = 'dotted snake_case, e.g. crm.etl.customers, at most 128 characters';
    END IF;
    IF p_message IS NULL OR btrim(p_message) = '' OR char_length(p_message) > 4000 THEN
        RAISE EXCEPTION 'a log message is required (at most 4000 characters)'
            USING ERRCODE = 'PC001', DETAIL = 'message', HINT = 'not blank, at most 4000 characters';
    END IF;
    IF p_context IS NOT NULL AND jsonb_typeof(p_context) <> 'object' THEN
        RAISE EXCEPTION 'the context must be a JSON object, got a %', jsonb_typeof(p_context)
            USING ERRCODE = 'PC001', DETAIL = 'context', HINT = 'e.g. {"campaign_id": "..."}';
    END IF;
    -- Keys that name personal data, at any depth: refuse, do not store.
    SELECT k INTO pii_key
    FROM jsonb_path_query(coalesce(p_context, '{}'), 'strict $.** ? (@.type() == "object").keyvalue().key') AS q(j),
         LATERAL (SELECT lower(j #>> '{}') AS k) AS x
    WHERE k IN ('email', 'e_mail', 'phone', 'national_id', 'nationalid', 'password', 'birth_date')
    LIMIT 1;
    IF pii_key IS NOT NULL THEN
        RAISE EXCEPTION 'the context carries personal data (%): log ids, not values', pii_key
            USING ERRCODE = 'PC001', DETAIL = 'context', HINT = 'log the customer id instead';
    END IF;

    INSERT INTO crm.operation_log (severity, source, message, context, logged_by, application)
    VALUES (
        severity,
        p_source,
        p_message,
        coalesce(p_context, '{}'),
        coalesce(nullif(btrim(p_who), ''), session_user),
        nullif(current_setting('application_name', true), '')
    )
    RETURNING id INTO p_log_id;
END;
$$;

COMMENT ON PROCEDURE crm.prcrmsp_write_log(text, text, text, jsonb, text, bigint) IS
    'Validates and appends one crm.operation_log row; returns its id. SQLSTATE PC001 on invalid input.';

-- Two sample entries, then what they look like.
CALL crm.prcrmsp_write_log('info', 'crm.scripts.logging', 'logging procedure installed', '{"script": "04_logging.sql"}');
CALL crm.prcrmsp_write_log(
    'warning', 'crm.etl.customers', 'customer skipped: no consent',
    '{"customer_id": "00000000-0000-0000-0000-000000000000", "rule": "marketing_consent"}', 'etl-runner'
);

SELECT id, logged_at, severity, source, message, context, logged_by
FROM crm.operation_log
ORDER BY id DESC
LIMIT 2;
