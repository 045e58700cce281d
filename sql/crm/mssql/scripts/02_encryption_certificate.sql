-- =============================================================================
-- 02_encryption_certificate.sql: national ids and context data encrypted with
-- an AES-256 symmetric key protected by an X.509 certificate in master; a
-- backup restored on another server cannot decrypt them until the certificate
-- (with its private key) is restored there too. SQL Server 2022.
-- PostgreSQL twin (runs here, tested): sql/crm/postgres/scripts/02_encrypted_backup_restore.sh.
--
-- The key hierarchy:
--   service master key (per instance, DPAPI)
--     -> database master key of master  -> certificate CrmPiiCert (in master)
--     -> database master key of PromptCrm -> certificate CrmPiiCert (copy, in PromptCrm)
--          -> symmetric key CrmPiiKey (AES_256) ENCRYPTION BY CERTIFICATE CrmPiiCert
--               -> crm_vault.customer_secrets ciphertext (EncryptByKey)
-- The certificate lives in master (it outlives any one database and is backed up
-- on its own, with its private key, to a file kept apart from database backups)
-- and is restored into PromptCrm from that file, so both hold the same key pair.
-- A database backup carries PromptCrm's master key, certificate and symmetric
-- key, but each is protected by something the other server lacks: PromptCrm's
-- master key by this instance's service master key (and a password), and the
-- certificate's private key by that master key. On another instance nothing can
-- be opened until the certificate with its private key is restored from the
-- file (or the master key is opened with its password).
--
-- The real application encrypts in Rust (AES-256-GCM, per-customer data keys
-- wrapped by a KEK, crates/platform/src/crypto.rs), so real national ids are
-- never plaintext in SQL Server; this lab encrypts a synthetic national id per
-- customer (NID-..., derived from the id) and a context document so the round
-- trip can be checked against the plain columns.
--
-- Passwords and paths are sqlcmd variables, never in this file:
--   MasterKeyPassword, CertBackupPassword, BackupDir (e.g. /var/opt/mssql/backup)
--
-- What to look at:
--   part 1: "round trip" - customers and how many decrypt back to what was encrypted;
--   part 3 (on the second server): NULL plaintext before the certificate is
--   restored (DecryptByKey returns NULL, OPEN SYMMETRIC KEY fails with 15151 /
--   15466 depending on what is missing), then all rows readable after.
--
-- CREATE CERTIFICATE, BACKUP CERTIFICATE, CREATE SYMMETRIC KEY and BACKUP DATABASE are
-- run through EXEC (N'...'): the pinned sqlfluff grammar of scripts/check-tsql.sh does not
-- know them, and SQL Server runs them the same (sqlcmd substitutes $(...) inside the strings).
--
-- Run part 1-2 on the source: sqlcmd -S source -v MasterKeyPassword="..." CertBackupPassword="..." BackupDir="..." -i ...
-- Part 3 is written out below as the commands for the second server (run them there
-- one block at a time, after copying the .bak, .cer and .pvk files).
-- =============================================================================

SET NOCOUNT ON;
SET XACT_ABORT ON;
SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;
GO

-- -----------------------------------------------------------------------------
-- Part 1: keys and encryption on the source server
-- -----------------------------------------------------------------------------
USE master;
GO

IF NOT EXISTS (SELECT 1 FROM sys.symmetric_keys WHERE name = N'##MS_DatabaseMasterKey##')
    CREATE MASTER KEY ENCRYPTION BY PASSWORD = '$(MasterKeyPassword)';
GO

IF NOT EXISTS (SELECT 1 FROM sys.certificates WHERE name = N'CrmPiiCert')
    EXEC (N'CREATE CERTIFICATE CrmPiiCert
        WITH SUBJECT = ''PromptCrm personal data protection'', EXPIRY_DATE = ''20301231'';');
GO

-- The certificate and its private key, to a file kept apart from the database
-- backups: without it a restored backup is unreadable, by design.
EXEC (N'BACKUP CERTIFICATE CrmPiiCert
    TO FILE = ''$(BackupDir)/CrmPiiCert.cer''
    WITH PRIVATE KEY (
        FILE = ''$(BackupDir)/CrmPiiCert.pvk'',
        ENCRYPTION BY PASSWORD = ''$(CertBackupPassword)''
    );');
GO

USE PromptCrm;
GO

IF NOT EXISTS (SELECT 1 FROM sys.symmetric_keys WHERE name = N'##MS_DatabaseMasterKey##')
    CREATE MASTER KEY ENCRYPTION BY PASSWORD = '$(MasterKeyPassword)';
GO

-- The same certificate inside PromptCrm (symmetric keys can only be protected by
-- a certificate of their own database), loaded from master's backup file.
IF NOT EXISTS (SELECT 1 FROM sys.certificates WHERE name = N'CrmPiiCert')
    EXEC (N'CREATE CERTIFICATE CrmPiiCert
        FROM FILE = ''$(BackupDir)/CrmPiiCert.cer''
        WITH PRIVATE KEY (
            FILE = ''$(BackupDir)/CrmPiiCert.pvk'',
            DECRYPTION BY PASSWORD = ''$(CertBackupPassword)''
        );');
GO

IF NOT EXISTS (SELECT 1 FROM sys.symmetric_keys WHERE name = N'CrmPiiKey')
    EXEC (N'CREATE SYMMETRIC KEY CrmPiiKey WITH ALGORITHM = AES_256 ENCRYPTION BY CERTIFICATE CrmPiiCert;');
GO

IF SCHEMA_ID(N'crm_vault') IS NULL EXEC (N'CREATE SCHEMA crm_vault AUTHORIZATION dbo;');
GO

IF OBJECT_ID(N'crm_vault.customer_secrets', N'U') IS NOT NULL DROP TABLE crm_vault.customer_secrets;
CREATE TABLE crm_vault.customer_secrets (
    customer_id     UNIQUEIDENTIFIER NOT NULL,
    national_id_enc VARBINARY(256)   NOT NULL,
    context_enc     VARBINARY(4000)  NOT NULL,
    CONSTRAINT customer_secrets_pkey PRIMARY KEY CLUSTERED (customer_id),
    CONSTRAINT customer_secrets_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES crm.customers (id)
);
GO

BEGIN TRY
    OPEN SYMMETRIC KEY CrmPiiKey DECRYPTION BY CERTIFICATE CrmPiiCert;

    -- The customer id is the authenticator: a ciphertext copied onto another
    -- customer's row does not decrypt there.
    INSERT INTO crm_vault.customer_secrets (customer_id, national_id_enc, context_enc)
    SELECT
        c.id,
        ENCRYPTBYKEY(
            KEY_GUID('CrmPiiKey'),
            CONVERT(NVARCHAR(64), N'NID-' + UPPER(LEFT(CONVERT(VARCHAR(40), HASHBYTES('MD5', CONVERT(VARCHAR(36), c.id)), 2), 10))),
            1,
            CONVERT(VARBINARY(16), c.id)
        ),
        ENCRYPTBYKEY(
            KEY_GUID('CrmPiiKey'),
            (
                SELECT
                    c.segment,
                    c.city,
                    c.preferred_language,
                    c.marketing_consent
                FOR JSON PATH, WITHOUT_ARRAY_WRAPPER
            ),
            1,
            CONVERT(VARBINARY(16), c.id)
        )
    FROM crm.customers AS c
    WHERE c.deleted_at IS NULL AND c.erased_at IS NULL;

    -- Round trip.
    SELECT
        COUNT(*) AS [round trip: customers],
        SUM(CASE WHEN JSON_VALUE(d.context, '$.segment') = c.segment AND d.national_id LIKE N'NID-%' THEN 1 ELSE 0 END)
            AS [round trip: readable]
    FROM crm_vault.customer_secrets AS s
    INNER JOIN crm.customers AS c ON s.customer_id = c.id
    CROSS APPLY (
        SELECT
            CONVERT(NVARCHAR(64), DECRYPTBYKEY(s.national_id_enc, 1, CONVERT(VARBINARY(16), s.customer_id))) AS national_id,
            CONVERT(NVARCHAR(4000), DECRYPTBYKEY(s.context_enc, 1, CONVERT(VARBINARY(16), s.customer_id))) AS context
    ) AS d;

    EXEC (N'CLOSE SYMMETRIC KEY CrmPiiKey;'); -- open keys belong to the session, so dynamic SQL closes it
END TRY
BEGIN CATCH
    IF EXISTS (SELECT 1 FROM sys.openkeys WHERE key_name = N'CrmPiiKey') EXEC (N'CLOSE SYMMETRIC KEY CrmPiiKey;');
    THROW;
END CATCH;
GO

-- -----------------------------------------------------------------------------
-- Part 2: the backup (the certificate is NOT in it in usable form)
-- -----------------------------------------------------------------------------
EXEC (N'BACKUP DATABASE PromptCrm
    TO DISK = ''$(BackupDir)/PromptCrm.bak''
    WITH INIT, CHECKSUM, COMPRESSION, STATS = 25;');
GO

-- -----------------------------------------------------------------------------
-- Part 3: on the SECOND server (copy PromptCrm.bak there; keep the .cer/.pvk
-- aside until step 3c). Written as comments: this script runs on the source.
--
-- 3a. restore the database:
--   RESTORE DATABASE PromptCrm FROM DISK = '/var/opt/mssql/backup/PromptCrm.bak'
--   WITH MOVE 'PromptCrm' TO '/var/opt/mssql/data/PromptCrm.mdf',
--        MOVE 'PromptCrm_log' TO '/var/opt/mssql/data/PromptCrm_log.ldf', RECOVERY;
--
-- 3b. try to read (the ciphertext is there, the key cannot be opened):
--   USE PromptCrm;
--   SELECT TOP (3) national_id_enc FROM crm_vault.customer_secrets;   -- bytes
--   OPEN SYMMETRIC KEY CrmPiiKey DECRYPTION BY CERTIFICATE CrmPiiCert;
--     -- Msg 15581: "Please create a master key in the database or open the master key
--     -- in the session before performing this operation." The database master key
--     -- was protected by the SOURCE's service master key.
--   SELECT CONVERT(NVARCHAR(64), DECRYPTBYKEY(national_id_enc, 1, CONVERT(VARBINARY(16), customer_id)))
--   FROM crm_vault.customer_secrets;                                   -- NULL for every row
--
-- 3c. restore the certificate with its private key (into master, as on the
--     source, and re-key PromptCrm's copy under this instance):
--   USE master;
--   CREATE MASTER KEY ENCRYPTION BY PASSWORD = '<new master key password>';
--   CREATE CERTIFICATE CrmPiiCert FROM FILE = '/var/opt/mssql/backup/CrmPiiCert.cer'
--   WITH PRIVATE KEY (FILE = '/var/opt/mssql/backup/CrmPiiCert.pvk',
--                     DECRYPTION BY PASSWORD = '<CertBackupPassword>');
--   USE PromptCrm;
--   OPEN MASTER KEY DECRYPTION BY PASSWORD = '<MasterKeyPassword of the source>';
--   ALTER MASTER KEY ADD ENCRYPTION BY SERVICE MASTER KEY;   -- opens automatically from now on
--   CLOSE MASTER KEY;
--
-- 3d. read again: every row decrypts.
--   OPEN SYMMETRIC KEY CrmPiiKey DECRYPTION BY CERTIFICATE CrmPiiCert;
--   SELECT COUNT(*) AS readable FROM crm_vault.customer_secrets
--   WHERE DECRYPTBYKEY(national_id_enc, 1, CONVERT(VARBINARY(16), customer_id)) IS NOT NULL;
--   CLOSE SYMMETRIC KEY CrmPiiKey;
-- -----------------------------------------------------------------------------
