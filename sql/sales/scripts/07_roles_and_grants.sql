-- =============================================================================
-- 07_roles_and_grants.sql: who may read and write what in the central store,
-- with GRANT and REVOKE, and a write that fails once its grant is revoked
--
-- The roles are NOT created here. `promptsales roles apply` (cli/src/roles.rs)
-- creates one login role per service and re-issues its grants from a spec, so
-- the spec is the single source of truth; this script reads and explains the
-- result from the catalog, and changes grants only inside a transaction it
-- rolls back. For the central store (promptsales) the roles are:
--
--   consumer              reaches the store as   why
--   portal (Next.js)      <prefix>sales          through the gateway (OAuth scopes
--                                                sales:read / sales:write) and the
--                                                sales subgraph; never directly
--   MCP servers           <prefix>sales          same path: they call the gateway
--                                                with GraphQL, never a database, so
--                                                they hold no database credentials
--   ETL (n8n)             <prefix>etl            reads sources via the gateway, writes
--                                                only the read models and bookkeeping
--   gateway audit         <prefix>gateway_audit  INSERT into audit_log, nothing else
--   auth server           <prefix>auth           OAuth clients and signing keys
--   analysts, BI tools    <prefix>analyst        SELECT only; no personal data
--                                                (contacts, portal_users), no OAuth
--                                                secrets, no audit trail
--
-- What it shows
--   1. the roles' attributes (pg_roles) and a privilege matrix per table,
--      computed with has_table_privilege (r = SELECT, a = INSERT, w = UPDATE,
--      d = DELETE; "-" = nothing);
--   2. a column-level GRANT: analysts may read some columns of portal_users
--      (names, roles) but not the encrypted e-mail;
--   3. the revoked write: the ETL role inserts a campaign summary, then INSERT
--      and UPDATE are revoked from it and the same insert is refused with
--      "permission denied for table campaign_summaries";
--   4. writes no role was ever granted: the analyst updating a plan, the
--      sales role reading OAuth clients.
--
-- What to look at in the output: the matrix, then four expected errors, each
-- announced by an "expect:" line: "permission denied for table portal_users",
-- "permission denied for table campaign_summaries", "permission denied for
-- table campaign_plans" and "permission denied for table oauth_clients"; and
-- "ETL may insert again after ROLLBACK | t" at the end.
--
-- Run: promptsales roles apply [--prefix P]   (once, as an administrator)
--      psql -X -v ON_ERROR_STOP=1 -v prefix=P -d promptsales -f sql/sales/scripts/07_roles_and_grants.sql
--      (prefix defaults to promptsales_). Needs a role that may SET ROLE to
--      the service roles: a superuser, or the role that created them (it may
--      GRANT their membership to itself, here inside the rolled-back transaction).
-- =============================================================================

\set QUIET on
\pset footer off
\pset null '-'
\if :{?prefix}
\else
\set prefix promptsales_
\endif
-- Expected errors below must not end the transaction.
\set ON_ERROR_ROLLBACK on
\set QUIET off

SELECT
    :'prefix' || 'sales' AS sales_role,
    :'prefix' || 'etl' AS etl_role,
    :'prefix' || 'analyst' AS analyst_role,
    :'prefix' || 'gateway_audit' AS audit_role,
    :'prefix' || 'auth' AS auth_role
\gset

-- Fail early, and say what to do, when the roles were not applied.
SELECT count(*) AS missing_roles
FROM unnest(ARRAY[:'sales_role', :'etl_role', :'analyst_role', :'audit_role', :'auth_role']) AS r (name)
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r.name)
\gset
SELECT :missing_roles > 0 AS roles_missing \gset
\if :roles_missing
\echo 'The service roles do not exist: run `promptsales roles apply --prefix' :prefix '` first.'
DO $$ BEGIN RAISE EXCEPTION 'service roles missing'; END $$;
\endif

-- -----------------------------------------------------------------------------
-- 1. The roles and what they may do
-- -----------------------------------------------------------------------------
\echo
\echo '== 1a. the service roles (pg_roles): logins that own nothing and create nothing =='

SELECT
    r.rolname AS role,
    r.rolcanlogin AS can_login,
    r.rolsuper AS superuser,
    r.rolcreatedb AS create_db,
    r.rolcreaterole AS create_role,
    r.rolinherit AS inherits,
    r.rolconnlimit AS connection_limit,
    has_database_privilege(r.rolname, current_database(), 'CONNECT') AS may_connect,
    has_database_privilege(r.rolname, current_database(), 'TEMPORARY') AS may_create_temp,
    has_schema_privilege(r.rolname, 'sales', 'CREATE') AS may_create_in_sales
FROM pg_roles AS r
WHERE r.rolname IN (:'sales_role', :'etl_role', :'analyst_role', :'audit_role', :'auth_role')
ORDER BY r.rolname;

\echo '== 1b. privileges per table (r = SELECT, a = INSERT, w = UPDATE, d = DELETE) =='

-- has_table_privilege answers for a role as the server would at run time,
-- through every grant (direct, via PUBLIC, via membership).
CREATE FUNCTION pg_temp.privileges(role_name text, tab regclass)
RETURNS text
LANGUAGE sql
STABLE
AS $$
    SELECT coalesce(nullif(
        CASE WHEN has_table_privilege(role_name, tab, 'SELECT') THEN 'r' ELSE '' END
        || CASE WHEN has_table_privilege(role_name, tab, 'INSERT') THEN 'a' ELSE '' END
        || CASE WHEN has_table_privilege(role_name, tab, 'UPDATE') THEN 'w' ELSE '' END
        || CASE WHEN has_table_privilege(role_name, tab, 'DELETE') THEN 'd' ELSE '' END,
        ''), '-')
$$;

SELECT
    c.relname AS table_name,
    pg_temp.privileges(:'sales_role', c.oid) AS "sales (portal, MCP)",
    pg_temp.privileges(:'etl_role', c.oid) AS etl,
    pg_temp.privileges(:'analyst_role', c.oid) AS analyst,
    pg_temp.privileges(:'audit_role', c.oid) AS gateway_audit,
    pg_temp.privileges(:'auth_role', c.oid) AS auth
FROM pg_class AS c
WHERE
    c.relnamespace = 'sales'::regnamespace
    AND c.relkind IN ('r', 'p')
    AND NOT c.relispartition
ORDER BY c.relname;

\echo '-- the same facts as the standard exposes them: information_schema.role_table_grants (etl)'
SELECT
    table_name,
    string_agg(privilege_type, ', ' ORDER BY privilege_type) AS privileges
FROM information_schema.role_table_grants
WHERE grantee = :'etl_role' AND table_schema = 'sales'
GROUP BY table_name
ORDER BY table_name;

BEGIN;
-- To act as the service roles (SET ROLE) this session needs their membership;
-- it is taken inside the transaction and goes with the ROLLBACK.
GRANT :"sales_role", :"etl_role", :"analyst_role" TO current_user;

-- -----------------------------------------------------------------------------
-- 2. Column-level GRANT
-- -----------------------------------------------------------------------------
\echo
\echo '== 2. column privileges: analysts see who the portal users are, not their e-mail =='

GRANT SELECT (id, organization_id, display_name, role, status) ON sales.portal_users TO :"analyst_role";
SET LOCAL ROLE :"analyst_role";
SELECT
    role,
    status,
    count(*) AS users
FROM sales.portal_users
GROUP BY role, status
ORDER BY role, status;
\echo 'expect: ERROR:  permission denied for table portal_users (email_enc was not granted)'
\set ON_ERROR_STOP off
SELECT email_enc FROM sales.portal_users LIMIT 1;
\set ON_ERROR_STOP on
RESET ROLE;

-- -----------------------------------------------------------------------------
-- 3. REVOKE, and the write that then fails
-- -----------------------------------------------------------------------------
\echo
\echo '== 3. the ETL writes a summary; after REVOKE the same write is refused =='

-- The values come from a plan, read as the administrator (the ETL role may not
-- read campaign_plans: it gets campaign data from the gateway).
SELECT
    campaign_id,
    organization_id,
    brand_id,
    coalesce(product_id::text, '') AS product_id,
    planned_start,
    planned_end,
    planned_budget
FROM sales.campaign_plans
WHERE deleted_at IS NULL
ORDER BY id
LIMIT 1
\gset

\set insert_summary 'INSERT INTO sales.campaign_summaries (campaign_id, organization_id, brand_id, product_id, name, status, starts_at, ends_at, budget, source_updated_at, refreshed_at) VALUES (' :'campaign_id' ', ' :'organization_id' ', ' :'brand_id' ', nullif(' :'product_id' ', '''')::uuid, ''grant demo'', ''active'', ' :'planned_start' ', ' :'planned_end' ', ' :'planned_budget' ', now(), now())'

SAVEPOINT before_etl_write;
SET LOCAL ROLE :"etl_role";
SELECT current_user AS acting_as, has_table_privilege('sales.campaign_summaries', 'INSERT') AS may_insert;
:insert_summary;
RESET ROLE;
-- Undo that row so the second attempt is the very same insert.
ROLLBACK TO SAVEPOINT before_etl_write;

REVOKE INSERT, UPDATE ON sales.campaign_summaries FROM :"etl_role";
SET LOCAL ROLE :"etl_role";
SELECT current_user AS acting_as, has_table_privilege('sales.campaign_summaries', 'INSERT') AS may_insert;
\echo 'expect: ERROR:  permission denied for table campaign_summaries'
\set ON_ERROR_STOP off
:insert_summary;
\set ON_ERROR_STOP on
RESET ROLE;

-- -----------------------------------------------------------------------------
-- 4. Writes that were never granted
-- -----------------------------------------------------------------------------
\echo
\echo '== 4. never granted: the analyst writing, the portal''s role reading OAuth secrets =='

SET LOCAL ROLE :"analyst_role";
SELECT count(*) AS "plans the analyst can read" FROM sales.campaign_plans;
\echo 'expect: ERROR:  permission denied for table campaign_plans'
\set ON_ERROR_STOP off
UPDATE sales.campaign_plans SET planned_budget = planned_budget * 2;
\set ON_ERROR_STOP on
RESET ROLE;

SET LOCAL ROLE :"sales_role";
SELECT count(*) AS "plans the sales subgraph can read" FROM sales.campaign_plans;
\echo 'expect: ERROR:  permission denied for table oauth_clients'
\set ON_ERROR_STOP off
SELECT count(*) FROM sales.oauth_clients;
\set ON_ERROR_STOP on
RESET ROLE;

-- GRANT and REVOKE are transactional: the rollback restores the ETL's INSERT
-- and takes back the column grant and the memberships.
ROLLBACK;

\echo
\echo '== after ROLLBACK: the grants are as `promptsales roles apply` left them =='
SELECT
    has_table_privilege(:'etl_role', 'sales.campaign_summaries', 'INSERT') AS "ETL may insert again after ROLLBACK",
    has_column_privilege(:'analyst_role', 'sales.portal_users', 'display_name', 'SELECT')
    AS "analyst column grant kept";
