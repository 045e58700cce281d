-- The store's service user and its grants, run by ag-setup.sh on the primary (the store database
-- replicates them; sqlcmd variables Database, Schema, ServiceLogin and AppendOnly). Least
-- privilege: read and write the rows of its own schema and run its procedures (with their table
-- types), nothing else: no DDL, no other schema, no server permission. Tables named in AppendOnly
-- (comma separated, may be empty) are evidence: INSERT and SELECT only. Idempotent.
SET NOCOUNT ON;
SET XACT_ABORT ON;

USE [$(Database)];

DECLARE @login sysname = N'$(ServiceLogin)';
DECLARE @schema sysname = N'$(Schema)';
DECLARE @append_only nvarchar(4000) = N'$(AppendOnly)';
DECLARE @sql nvarchar(max);

IF SCHEMA_ID(@schema) IS NULL
    THROW 50011, N'the schema does not exist: run the migrations first', 1;

IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = @login)
    SET @sql = N'CREATE USER ' + QUOTENAME(@login) + N' FOR LOGIN ' + QUOTENAME(@login)
        + N' WITH DEFAULT_SCHEMA = ' + QUOTENAME(@schema) + N';';
ELSE
    SET @sql = N'ALTER USER ' + QUOTENAME(@login) + N' WITH LOGIN = ' + QUOTENAME(@login)
        + N', DEFAULT_SCHEMA = ' + QUOTENAME(@schema) + N';';
EXEC sys.sp_executesql @sql;

-- From scratch on every run: whatever an older version granted or denied (on the schema or on
-- one of its tables) is taken back first.
SET @sql = N'REVOKE SELECT, INSERT, UPDATE, DELETE, EXECUTE, REFERENCES ON SCHEMA::'
    + QUOTENAME(@schema) + N' FROM ' + QUOTENAME(@login) + N';';
EXEC sys.sp_executesql @sql;
SELECT @sql = STRING_AGG(
    CAST(N'REVOKE SELECT, INSERT, UPDATE, DELETE, REFERENCES ON OBJECT::' AS nvarchar(max))
    + QUOTENAME(@schema) + N'.' + QUOTENAME(t.name) + N' FROM ' + QUOTENAME(@login) + N';', N' ')
FROM sys.tables AS t
WHERE t.schema_id = SCHEMA_ID(@schema);
IF @sql IS NOT NULL EXEC sys.sp_executesql @sql;

SET @sql = N'GRANT SELECT, INSERT, UPDATE, DELETE, EXECUTE, REFERENCES ON SCHEMA::'
    + QUOTENAME(@schema) + N' TO ' + QUOTENAME(@login) + N';';
EXEC sys.sp_executesql @sql;

-- Evidence tables: no UPDATE or DELETE, whatever the schema grants.
DECLARE @table sysname;
DECLARE evidence CURSOR LOCAL FAST_FORWARD FOR
    SELECT LTRIM(RTRIM(value)) FROM STRING_SPLIT(@append_only, N',') WHERE LTRIM(RTRIM(value)) <> N'';
OPEN evidence;
FETCH NEXT FROM evidence INTO @table;
WHILE @@FETCH_STATUS = 0
BEGIN
    IF OBJECT_ID(QUOTENAME(@schema) + N'.' + QUOTENAME(@table), N'U') IS NULL
        THROW 50012, N'an AppendOnly table does not exist in the schema', 1;
    SET @sql = N'DENY UPDATE, DELETE ON OBJECT::' + QUOTENAME(@schema) + N'.' + QUOTENAME(@table)
        + N' TO ' + QUOTENAME(@login) + N';';
    EXEC sys.sp_executesql @sql;
    FETCH NEXT FROM evidence INTO @table;
END;
CLOSE evidence;
DEALLOCATE evidence;
