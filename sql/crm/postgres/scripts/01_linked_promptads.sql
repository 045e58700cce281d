-- =============================================================================
-- 01_linked_promptads.sql: PromptCrm reads PromptAds through postgres_fdw, the
-- PostgreSQL counterpart of the SQL Server linked server
-- (sql/crm/mssql/scripts/01_linked_server_promptads.sql), and a CRM report
-- joins campaign names and ad results with CRM sales in one query.
--
-- Why: campaigns and their results live in PromptAds, sales in PromptCrm. A
-- report that compares what the ads say (reach, spend, attributed revenue) with
-- what the CRM booked needs both; a foreign server lets one SQL statement join
-- them, and postgres_fdw pushes the remote part (filters, GROUP BY, sums) to
-- PromptAds so only one row per campaign crosses the link.
--
-- Who runs it: a superuser (DBA). CREATE EXTENSION postgres_fdw is not a
-- trusted extension, and with trust (or peer) authentication on the remote
-- side a non-superuser's user mapping must say password_required 'false',
-- which only a superuser may set: postgres_fdw otherwise refuses a
-- non-superuser connection that did not use a password. The foreign tables and
-- the report view are created as the application role (SET ROLE), so they are
-- its own and its queries go through its own user mapping, as in production.
--
-- Variables (psql -v), with their defaults:
--   ads_host 127.0.0.1, ads_port 5432, ads_dbname promptads: the PromptAds store
--   ads_user promptsales: the role the link logs in as on PromptAds (read-only
--            access is enough; here it is the store's owner)
--   app_role promptsales: the CRM application role that gets the mapping
--
-- What to look at in the output:
--   - the report, one row per campaign: name and status (PromptAds), views,
--     reach, interactions, spend and the revenue the ads attributed (PromptAds
--     ad_results), CRM sales and revenue, and CRM revenue per dollar spent;
--   - the EXPLAIN VERBOSE: "Foreign Scan" nodes whose "Remote SQL" carries the
--     GROUP BY and the sums (aggregate pushdown), and a local Hash Join with
--     the CRM sales.
--
-- Run: psql -X -v ON_ERROR_STOP=1 -U postgres -d promptcrm -f sql/crm/postgres/scripts/01_linked_promptads.sql
-- Re-running it replaces the server, mapping, foreign tables and view; whatever else was
-- built on the foreign tables goes too (DROP ... CASCADE), so run 03 again after it.
-- =============================================================================

\if :{?ads_host} \else \set ads_host 127.0.0.1 \endif
\if :{?ads_port} \else \set ads_port 5432 \endif
\if :{?ads_dbname} \else \set ads_dbname promptads \endif
\if :{?ads_user} \else \set ads_user promptsales \endif
\if :{?app_role} \else \set app_role promptsales \endif

CREATE EXTENSION IF NOT EXISTS postgres_fdw;

DROP SERVER IF EXISTS promptads CASCADE;
CREATE SERVER promptads
    FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (
        host :'ads_host', port :'ads_port', dbname :'ads_dbname',
        -- Rows per round trip when a foreign scan does return many rows.
        fetch_size '1000',
        -- Ask PromptAds for row estimates (EXPLAIN on the remote) when planning
        -- joins: better plans for a few extra milliseconds per query.
        use_remote_estimate 'true'
    );

-- The application's mapping. password_required 'false' (superuser only): the
-- remote side trusts this host, so no password is sent, and a non-superuser may
-- still use the mapping. With password authentication, give password instead.
CREATE USER MAPPING FOR :"app_role" SERVER promptads
    OPTIONS (user :'ads_user', password_required 'false');
GRANT USAGE ON FOREIGN SERVER promptads TO :"app_role";

DROP SCHEMA IF EXISTS promptads CASCADE;
CREATE SCHEMA promptads AUTHORIZATION :"app_role";
COMMENT ON SCHEMA promptads IS 'Foreign tables of the PromptAds store (postgres_fdw server promptads).';

SET ROLE :"app_role";

-- Only what CRM reports read. IMPORT keeps the column names and types in step
-- with the remote tables (run the script again after an ads migration).
IMPORT FOREIGN SCHEMA ads
    LIMIT TO (campaigns, channels, markets, ad_results, sentiment_samples)
    FROM SERVER promptads INTO promptads;

-- The CRM report: what the ads reported against what the CRM booked, per
-- campaign. Refunds are tombstones, so live sales only.
CREATE OR REPLACE VIEW crm.campaign_results_vs_sales AS
WITH ad_totals AS (
    SELECT
        r.campaign_id,
        sum(r.views) AS views,
        sum(r.reach) AS reach,
        sum(r.interactions) AS interactions,
        sum(r.cost) AS spend_usd,
        sum(r.revenue) AS ads_revenue_usd
    FROM promptads.ad_results AS r
    WHERE r.deleted_at IS NULL
    GROUP BY r.campaign_id
),
crm_totals AS (
    SELECT
        s.campaign_id,
        count(*) AS crm_sales,
        sum(s.quantity) AS crm_units,
        sum(s.amount_usd) AS crm_revenue_usd
    FROM crm.sales AS s
    WHERE s.deleted_at IS NULL AND s.campaign_id IS NOT NULL
    GROUP BY s.campaign_id
)
SELECT
    c.id AS campaign_id,
    c.organization_id,
    c.name AS campaign_name,
    c.status,
    coalesce(a.views, 0) AS views,
    coalesce(a.reach, 0) AS reach,
    coalesce(a.interactions, 0) AS interactions,
    coalesce(a.spend_usd, 0) AS spend_usd,
    coalesce(a.ads_revenue_usd, 0) AS ads_revenue_usd,
    coalesce(t.crm_sales, 0) AS crm_sales,
    coalesce(t.crm_units, 0) AS crm_units,
    coalesce(t.crm_revenue_usd, 0) AS crm_revenue_usd,
    CASE WHEN a.spend_usd > 0 THEN round(coalesce(t.crm_revenue_usd, 0) / a.spend_usd, 2) END AS crm_revenue_per_usd
FROM promptads.campaigns AS c
LEFT JOIN ad_totals AS a ON c.id = a.campaign_id
LEFT JOIN crm_totals AS t ON c.id = t.campaign_id
WHERE c.deleted_at IS NULL;

COMMENT ON VIEW crm.campaign_results_vs_sales IS
    'Per campaign: PromptAds name, status and results (through postgres_fdw) beside CRM sales and revenue.';

-- The cross query.
SELECT campaign_name, status, views, reach, spend_usd, ads_revenue_usd, crm_sales, crm_revenue_usd, crm_revenue_per_usd
FROM crm.campaign_results_vs_sales
ORDER BY crm_revenue_usd DESC, campaign_id
LIMIT 10;

-- Where the work happens: the remote SQL carries the aggregation.
EXPLAIN (VERBOSE, COSTS OFF)
SELECT campaign_name, spend_usd, crm_revenue_usd
FROM crm.campaign_results_vs_sales;

RESET ROLE;
