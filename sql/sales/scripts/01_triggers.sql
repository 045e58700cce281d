-- =============================================================================
-- 01_triggers.sql: triggers on the central store (promptsales, schema sales)
--
-- What it shows
--   1. updated_at kept by the store: sales.touch_updated_at() (from the schema)
--      stamps every change with clock_timestamp() and keeps created_at
--      write-once, whatever the writer sends. sales.bump_version() moves the
--      optimistic-concurrency version.
--   2. An audit trail: a new AFTER UPDATE OF status trigger on campaign_plans
--      writes one row into the existing sales.audit_log, whose own trigger
--      (sales.reject_append_only_change) then refuses to let anyone edit it.
--   3. A summary kept consistent: statement-level triggers with transition
--      tables keep the additive totals of campaign_summaries equal to the sum
--      of its campaign_daily_metrics rows, for INSERT, UPDATE and DELETE.
--
-- Nothing is kept: the script runs in ONE transaction and ends with ROLLBACK.
-- DDL is transactional in PostgreSQL, so the new triggers vanish too. The ETL
-- (issue #15) does not fill the summaries yet, so section 3 creates the one
-- summary row and the daily rows it needs, inside the same transaction.
--
-- What to look at in the output
--   - "updated_at moved | t", "created_at kept | t", "version bumped | t":
--     the writer tried to back-date updated_at and to change created_at, the
--     store overrode both.
--   - The audit_log row with action plan_status_changed and the details
--     {"from": ..., "to": ...}; then an ERROR "sales.audit_log_... is
--     append-only: UPDATE is not allowed" (the one error this script expects).
--   - "summary matches daily rows | t" after each of INSERT, UPDATE and DELETE.
--
-- Run: psql -X -v ON_ERROR_STOP=1 -d promptsales -f sql/sales/scripts/01_triggers.sql
-- Needs: a seeded promptsales; a role that may create functions and triggers in
-- schema sales (the owner of the schema or a superuser). No data is changed.
-- =============================================================================

\set QUIET on
\pset footer off
-- Later statements expect an error once; ON_ERROR_ROLLBACK keeps the
-- transaction usable after it (psql wraps each statement in a savepoint).
\set ON_ERROR_ROLLBACK on
\set QUIET off

BEGIN;

-- -----------------------------------------------------------------------------
-- 1. updated_at and version, kept by the existing BEFORE UPDATE triggers
-- -----------------------------------------------------------------------------
\echo
\echo '== 1. updated_at / version: the triggers already on every table =='

-- Which tables carry the touch trigger (the catalog, not a hand-kept list).
SELECT c.relname AS table_name, t.tgname AS trigger_name
FROM pg_trigger AS t
INNER JOIN pg_class AS c ON t.tgrelid = c.oid
INNER JOIN pg_proc AS p ON t.tgfoid = p.oid
WHERE
    p.proname IN ('touch_updated_at', 'bump_version')
    AND c.relnamespace = 'sales'::regnamespace
    AND c.relname IN ('campaign_plans', 'approvals', 'scheduled_tasks')
ORDER BY c.relname, t.tgname;

-- The plan we edit: the first live one by id, remembered in psql variables.
SELECT
    id AS plan_id,
    updated_at AS old_updated_at,
    created_at AS old_created_at,
    version AS old_version,
    status AS old_status
FROM sales.campaign_plans
WHERE deleted_at IS NULL
ORDER BY id
LIMIT 1
\gset

-- The writer tries to back-date updated_at and rewrite created_at.
UPDATE sales.campaign_plans
SET
    objective = coalesce(objective, '') || ' (reviewed)',
    updated_at = '2000-01-01 00:00:00+00',
    created_at = '2000-01-01 00:00:00+00'
WHERE id = :'plan_id';

SELECT
    updated_at > :'old_updated_at'::timestamptz AS "updated_at moved",
    created_at = :'old_created_at'::timestamptz AS "created_at kept",
    version = :old_version + 1 AS "version bumped",
    updated_at,
    version
FROM sales.campaign_plans
WHERE id = :'plan_id';

-- -----------------------------------------------------------------------------
-- 2. An audit trail into the existing, append-only sales.audit_log
-- -----------------------------------------------------------------------------
\echo
\echo '== 2. audit trail: who changed a plan''s status, from what, to what =='

-- The actor: the application would SET LOCAL promptsales.actor to the caller's
-- subject; without it we record the database role.
CREATE FUNCTION sales.audit_plan_status_change()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO sales.audit_log (id, actor_subject, actor_organization_id, action, target_type, target_id,
                                 outcome, details)
    VALUES (gen_random_uuid(),
            coalesce(nullif(current_setting('promptsales.actor', true), ''), session_user),
            NEW.organization_id, 'plan_status_changed', 'CampaignPlan', NEW.id::text, 'success',
            jsonb_build_object('from', OLD.status, 'to', NEW.status, 'version', NEW.version));
    RETURN NULL; -- AFTER trigger: the return value is ignored
END
$$;

-- "UPDATE OF status ... WHEN (...)": the trigger does not even run for
-- updates that leave the status alone, so other edits cost nothing.
CREATE TRIGGER campaign_plans_audit_status
AFTER UPDATE OF status ON sales.campaign_plans
FOR EACH ROW
WHEN (old.status IS DISTINCT FROM new.status)
EXECUTE FUNCTION sales.audit_plan_status_change();

SET LOCAL promptsales.actor = 'teaching-script';

-- An edit that does not touch the status: no audit row.
UPDATE sales.campaign_plans SET title = title WHERE id = :'plan_id';
-- A status change: one audit row.
UPDATE sales.campaign_plans
SET status = CASE WHEN status = 'closed' THEN 'launched' ELSE 'closed' END
WHERE id = :'plan_id';

SELECT
    actor_subject,
    action,
    target_type,
    details,
    tableoid::regclass AS partition
FROM sales.audit_log
WHERE target_id = :'plan_id' AND action = 'plan_status_changed';

SELECT count(*) AS "audit rows for the plan"
FROM sales.audit_log
WHERE target_id = :'plan_id' AND action = 'plan_status_changed';

\echo 'Next: an attempt to edit the audit row. Expect ERROR ... is append-only: UPDATE is not allowed'
\set ON_ERROR_STOP off
UPDATE sales.audit_log SET outcome = 'denied'
WHERE target_id = :'plan_id' AND action = 'plan_status_changed';
\set ON_ERROR_STOP on

-- -----------------------------------------------------------------------------
-- 3. A summary kept consistent with its detail rows
-- -----------------------------------------------------------------------------
\echo
\echo '== 3. campaign_summaries totals = sum(campaign_daily_metrics), kept by triggers =='

-- The ETL owns these tables (issue #15, not built yet), so the summary row of
-- the plan's campaign is created here, inside this transaction.
INSERT INTO sales.campaign_summaries (
    campaign_id, organization_id, brand_id, product_id, name, status, starts_at, ends_at, budget,
    source_updated_at, refreshed_at
)
SELECT
    campaign_id,
    organization_id,
    brand_id,
    product_id,
    title,
    'active',
    planned_start,
    planned_end,
    planned_budget,
    now(),
    now()
FROM sales.campaign_plans
WHERE id = :'plan_id'
RETURNING campaign_id AS summary_campaign_id
\gset

-- One function for the three events. Transition tables (old_rows/new_rows)
-- hold every row the statement touched, so a bulk load of 10,000 daily rows
-- updates each summary once, not 10,000 times. PostgreSQL allows transition
-- tables only on single-event triggers, hence three triggers below, and the
-- function reads a table only on the events that declare it (PL/pgSQL plans a
-- statement on its first run, so an untaken branch may name a missing one).
-- Only additive measures are maintained: reach (unique audience) is not a sum
-- of days and stays the ETL's.
CREATE FUNCTION sales.sync_summary_from_daily()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    added   sales.campaign_daily_metrics[] := '{}';
    removed sales.campaign_daily_metrics[] := '{}';
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        added := ARRAY(SELECT n FROM new_rows AS n);
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        removed := ARRAY(SELECT o FROM old_rows AS o);
    END IF;
    WITH changes AS (
        SELECT campaign_id, views, interactions, likes, sales_count, revenue, cost FROM unnest(added)
        UNION ALL
        SELECT campaign_id, -views, -interactions, -likes, -sales_count, -revenue, -cost FROM unnest(removed)
    ), delta AS (
        SELECT campaign_id, sum(views) AS views, sum(interactions) AS interactions, sum(likes) AS likes,
               sum(sales_count) AS sales_count, sum(revenue) AS revenue, sum(cost) AS cost
        FROM changes
        GROUP BY campaign_id
    )
    UPDATE sales.campaign_summaries AS s
    SET views        = s.views + d.views,
        interactions = s.interactions + d.interactions,
        likes        = s.likes + d.likes,
        sales_count  = s.sales_count + d.sales_count,
        revenue      = s.revenue + d.revenue,
        cost         = s.cost + d.cost,
        -- The schema's rule: roi is NULL while cost = 0.
        roi          = CASE WHEN s.cost + d.cost > 0
                            THEN round((s.revenue + d.revenue - s.cost - d.cost) / (s.cost + d.cost), 4) END
    FROM delta AS d
    WHERE s.campaign_id = d.campaign_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER campaign_daily_metrics_sync_insert
AFTER INSERT ON sales.campaign_daily_metrics
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT
EXECUTE FUNCTION sales.sync_summary_from_daily();

CREATE TRIGGER campaign_daily_metrics_sync_update
AFTER UPDATE ON sales.campaign_daily_metrics
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT
EXECUTE FUNCTION sales.sync_summary_from_daily();

CREATE TRIGGER campaign_daily_metrics_sync_delete
AFTER DELETE ON sales.campaign_daily_metrics
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT
EXECUTE FUNCTION sales.sync_summary_from_daily();

-- The check run after each step: the summary against a fresh sum of its days.
-- Kept as a psql variable and run with :check.
\set check 'SELECT s.views = coalesce(sum(d.views), 0) AND s.interactions = coalesce(sum(d.interactions), 0) AND s.likes = coalesce(sum(d.likes), 0) AND s.sales_count = coalesce(sum(d.sales_count), 0) AND s.revenue = coalesce(sum(d.revenue), 0) AND s.cost = coalesce(sum(d.cost), 0) AS "summary matches daily rows", s.views, s.sales_count, s.revenue, s.cost, s.roi FROM sales.campaign_summaries AS s LEFT JOIN sales.campaign_daily_metrics AS d ON d.campaign_id = s.campaign_id WHERE s.campaign_id = :''summary_campaign_id'' GROUP BY s.campaign_id;'

\echo '-- after INSERT of three days (one statement: the trigger runs once)'
INSERT INTO sales.campaign_daily_metrics (
    campaign_id, day, organization_id, reach, views, interactions, likes, sales_count, revenue, cost, refreshed_at
)
SELECT
    s.campaign_id,
    s.starts_at::date + n,
    s.organization_id,
    1000 * n,
    5000 * n,
    400 * n,
    150 * n,
    12 * n,
    480.00 * n,
    300.00 * n,
    now()
FROM sales.campaign_summaries AS s
CROSS JOIN generate_series(1, 3) AS n
WHERE s.campaign_id = :'summary_campaign_id';
:check

\echo '-- after UPDATE of one day (a late correction of its sales)'
UPDATE sales.campaign_daily_metrics
SET sales_count = sales_count + 5, revenue = revenue + 200.00
WHERE campaign_id = :'summary_campaign_id' AND day = (
    SELECT min(day) FROM sales.campaign_daily_metrics
    WHERE campaign_id = :'summary_campaign_id'
);
:check

\echo '-- after DELETE of the last day'
DELETE FROM sales.campaign_daily_metrics
WHERE campaign_id = :'summary_campaign_id' AND day = (
    SELECT max(day) FROM sales.campaign_daily_metrics
    WHERE campaign_id = :'summary_campaign_id'
);
:check

\echo
\echo '== done: ROLLBACK, nothing of the above is kept =='
ROLLBACK;
