-- =============================================================================
-- 01_linked_server_promptads.sql: PromptCrm reads PromptAds through a linked
-- server, and a CRM report joins campaign names and ad results with CRM sales.
-- SQL Server 2022. PostgreSQL twin (postgres_fdw, run by the tests):
-- sql/crm/postgres/scripts/01_linked_promptads.sql.
--
-- Why: campaigns and their results live in PromptAds (its own instance in
-- production), sales in PromptCrm. One statement can join both through a
-- linked server; OPENQUERY sends the aggregation to PromptAds so one row per
-- campaign crosses the link instead of every daily result row.
--
-- Security: the login mapping is explicit and narrow. @useself = 'FALSE' with a
-- dedicated SQL login on PromptAds (read-only: db_datareader on ads, nothing
-- else), mapped only for the CRM application's login; every other local login
-- is refused (no "be made using the login's current security context" default).
-- RPC OUT stays off: the CRM only reads. The password comes from the sqlcmd
-- variable PromptAdsLinkPassword, never from this file:
--     sqlcmd -d PromptCrm -v PromptAdsLinkPassword="..." -i ...
--
-- Variables (sqlcmd -v): PromptAdsInstance (e.g. ads-sql.promptsales.svc,1433),
-- PromptAdsLinkPassword, CrmAppLogin (the CRM service's login, e.g. promptcrm_app).
--
-- What to look at: the report (campaign, status, views, reach, spend and
-- ads-attributed revenue from PromptAds; CRM sales and revenue; CRM revenue per
-- dollar) and, in the actual plan, a "Remote Query" operator whose text carries
-- the GROUP BY.
--
-- Run (as sysadmin for the linked-server part): sqlcmd -d PromptCrm -i sql/crm/mssql/scripts/01_linked_server_promptads.sql
-- =============================================================================

SET NOCOUNT ON;
SET XACT_ABORT ON;
SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;
GO

BEGIN TRY
    IF EXISTS (SELECT 1 FROM sys.servers WHERE name = N'PROMPTADS')
        EXEC master.dbo.sp_dropserver @server = N'PROMPTADS', @droplogins = 'droplogins';

    -- MSOLEDBSQL is the supported OLE DB driver for SQL Server (SQLNCLI is gone).
    EXEC master.dbo.sp_addlinkedserver
        @server = N'PROMPTADS',
        @srvproduct = N'',
        @provider = N'MSOLEDBSQL',
        @datasrc = N'$(PromptAdsInstance)',
        @catalog = N'PromptAds';

    EXEC master.dbo.sp_serveroption @server = N'PROMPTADS', @optname = 'data access', @optvalue = 'true';
    EXEC master.dbo.sp_serveroption @server = N'PROMPTADS', @optname = 'rpc out', @optvalue = 'false';
    -- Let the optimizer use PromptAds' collation for pushed-down comparisons.
    EXEC master.dbo.sp_serveroption @server = N'PROMPTADS', @optname = 'collation compatible', @optvalue = 'true';
    -- Check the remote tables' schema before a query runs: skipping it (true) saves a round trip
    -- but fails mid-query after an ads migration changes a column.
    EXEC master.dbo.sp_serveroption @server = N'PROMPTADS', @optname = 'lazy schema validation', @optvalue = 'false';

    -- No default mapping: a login without its own mapping cannot use the link.
    EXEC master.dbo.sp_droplinkedsrvlogin @rmtsrvname = N'PROMPTADS', @locallogin = NULL;
    EXEC master.dbo.sp_addlinkedsrvlogin
        @rmtsrvname = N'PROMPTADS',
        @useself = 'FALSE',
        @locallogin = N'$(CrmAppLogin)',
        @rmtuser = N'promptcrm_link_reader',
        @rmtpassword = N'$(PromptAdsLinkPassword)';
END TRY
BEGIN CATCH
    DECLARE @setup_error NVARCHAR(2048) = CONCAT(N'linked server PROMPTADS: ', ERROR_MESSAGE());
    THROW 51500, @setup_error, 1;
END CATCH;
GO

-- The CRM report as a view, used by the CRM reporting endpoints. OPENQUERY
-- runs its text on PromptAds as written: the aggregation happens there.
CREATE OR ALTER VIEW crm.campaign_results_vs_sales
AS
WITH crm_totals AS (
    SELECT
        s.campaign_id,
        COUNT_BIG(*) AS crm_sales,
        SUM(CAST(s.quantity AS BIGINT)) AS crm_units,
        SUM(s.amount_usd) AS crm_revenue_usd
    FROM crm.sales AS s
    WHERE s.deleted_at IS NULL AND s.campaign_id IS NOT NULL
    GROUP BY s.campaign_id
)

SELECT
    a.campaign_id,
    a.organization_id,
    a.campaign_name,
    a.status,
    a.views,
    a.reach,
    a.interactions,
    a.spend_usd,
    a.ads_revenue_usd,
    COALESCE(t.crm_sales, 0) AS crm_sales,
    COALESCE(t.crm_units, 0) AS crm_units,
    COALESCE(t.crm_revenue_usd, 0) AS crm_revenue_usd,
    CASE
        WHEN a.spend_usd > 0 THEN CAST(ROUND(COALESCE(t.crm_revenue_usd, 0) / a.spend_usd, 2) AS DECIMAL(18, 2))
    END AS crm_revenue_per_usd
FROM OPENQUERY(PROMPTADS, '
    SELECT
        c.id AS campaign_id,
        c.organization_id,
        c.name AS campaign_name,
        c.status,
        COALESCE(SUM(r.views), 0) AS views,
        COALESCE(SUM(r.reach), 0) AS reach,
        COALESCE(SUM(r.interactions), 0) AS interactions,
        COALESCE(SUM(r.cost), 0) AS spend_usd,
        COALESCE(SUM(r.revenue), 0) AS ads_revenue_usd
    FROM ads.campaigns AS c
    LEFT JOIN ads.ad_results AS r ON r.campaign_id = c.id AND r.deleted_at IS NULL
    WHERE c.deleted_at IS NULL
    GROUP BY c.id, c.organization_id, c.name, c.status') AS a
LEFT JOIN crm_totals AS t ON a.campaign_id = t.campaign_id;
GO

-- The cross query. Four-part names work too (PROMPTADS.PromptAds.ads.campaigns),
-- but then SQL Server decides what to ship; OPENQUERY makes it explicit.
SELECT TOP (10)
    campaign_name,
    status,
    views,
    reach,
    spend_usd,
    ads_revenue_usd,
    crm_sales,
    crm_revenue_usd,
    crm_revenue_per_usd
FROM crm.campaign_results_vs_sales
ORDER BY crm_revenue_usd DESC, campaign_id;
GO

-- Who may use the link, and as whom.
SELECT
    s.name AS linked_server,
    s.provider,
    s.data_source,
    s.is_rpc_out_enabled,
    COALESCE(p.name, N'(no default mapping)') AS local_login,
    l.uses_self_credential,
    l.remote_name
FROM sys.servers AS s
INNER JOIN sys.linked_logins AS l ON s.server_id = l.server_id
LEFT JOIN sys.server_principals AS p ON l.local_principal_id = p.principal_id
WHERE s.name = N'PROMPTADS';
GO
