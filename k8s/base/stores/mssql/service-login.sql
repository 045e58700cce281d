-- The store's service login on one replica of its availability group (run by ag-setup.sh on every
-- replica, with sqlcmd variables ServiceLogin, ServicePassword and ServiceSid). Logins live in
-- each instance's master database, not in the replicated store database: every replica gets the
-- same login with the same SID, so the database user that replicates with the store maps to it
-- on whichever replica is primary after a failover. Idempotent: a rerun sets the password again.
SET NOCOUNT ON;
SET XACT_ABORT ON;

DECLARE @login sysname = N'$(ServiceLogin)';
DECLARE @sid_text nvarchar(64) = N'$(ServiceSid)';
DECLARE @sql nvarchar(max);

-- The SID is pasted into a statement below: only 16 bytes in hexadecimal are accepted.
IF @sid_text NOT LIKE N'0x%'
    OR LEN(@sid_text) <> 34
    OR SUBSTRING(@sid_text, 3, 32) LIKE N'%[^0-9A-Fa-f]%'
    THROW 50001, N'ServiceSid must be 0x followed by 32 hexadecimal digits', 1;

IF @login NOT LIKE N'promptsales[_]%' OR @login LIKE N'%[^a-z0-9_]%'
    THROW 50002, N'ServiceLogin must be promptsales_ followed by lower-case letters, digits or _', 1;

IF NOT EXISTS (SELECT 1 FROM sys.server_principals WHERE name = @login)
    SET @sql = N'CREATE LOGIN ' + QUOTENAME(@login)
        + N' WITH PASSWORD = ' + QUOTENAME(N'$(ServicePassword)', N'''')
        + N', SID = ' + @sid_text
        + N', CHECK_POLICY = ON, CHECK_EXPIRATION = OFF;';
ELSE
    SET @sql = N'ALTER LOGIN ' + QUOTENAME(@login)
        + N' WITH PASSWORD = ' + QUOTENAME(N'$(ServicePassword)', N'''')
        + N', CHECK_POLICY = ON; ALTER LOGIN ' + QUOTENAME(@login) + N' ENABLE;';

EXEC sys.sp_executesql @sql;

-- A login of the same name with another SID (made by hand) would leave the user orphaned.
IF NOT EXISTS (
    SELECT 1 FROM sys.server_principals
    WHERE name = @login AND sid = CONVERT(varbinary(85), @sid_text, 1)
)
    THROW 50003, N'the service login exists with another SID: drop it, then run the setup again', 1;
