-- =============================================================================
-- 02_cursors.sql: a server-side cursor walking the campaigns in batches, and
-- the set-based query that answers the same question
--
-- The question: per organization, how many campaign plans are launched and
-- closed, what budget they planned, and how many sign-off steps they took.
--
-- What it shows
--   1. A cursor declared in SQL and read in batches with FETCH FORWARD n (what
--      a client does to stream a large result with bounded memory). psql's
--      \gexec issues exactly as many FETCHes as there are batches, plus the
--      last one that returns 0 rows: that empty batch is how a client knows
--      the walk is over.
--   2. The same walk done as a batch job in PL/pgSQL: an explicit cursor, one
--      row at a time, one extra query per row for its approvals (the "N+1"
--      pattern a row-by-row walk invites), totals kept in a temporary table,
--      a NOTICE per batch.
--   3. The set-based equivalent: one statement with joins and GROUP BY. It is
--      compared row for row with the cursor's totals (EXCEPT both ways).
--
-- What to look at in the output
--   - the FETCH batches (each at most :batch_size rows, the last one empty);
--   - the NOTICEs "batch k: n plans", then "cursor walk: N plans in B batches";
--   - the two "Time:" lines (psql \timing): the set-based query is one plan
--     the optimizer can execute with hash joins; the walk pays a FETCH, an
--     approvals query and an upsert per plan. On the small seed (24 plans) both
--     take milliseconds, the walk several times longer; the gap grows with the
--     number of plans.
--   - "cursor matches set-based | t": the two answers are identical.
--
-- When a cursor is the right tool: streaming a result too large for client
-- memory, or work per row that SQL cannot express (calling a service). A cursor
-- lives inside its transaction (unless WITH HOLD, which materialises it), so a
-- batch job that must commit between batches should walk by key instead:
--   WHERE id > :last_id ORDER BY id LIMIT :batch_size.
--
-- Run: psql -X -v ON_ERROR_STOP=1 -d promptsales -f sql/sales/scripts/02_cursors.sql
--      (optional: -v batch_size=50). Read-only; ends with ROLLBACK.
-- =============================================================================

\set QUIET on
\pset footer off
\if :{?batch_size}
\else
\set batch_size 10
\endif
\set QUIET off

BEGIN;

-- -----------------------------------------------------------------------------
-- 1. A SQL cursor read in batches
-- -----------------------------------------------------------------------------
\echo
\echo '== 1. DECLARE ... CURSOR, then FETCH FORWARD' :batch_size 'until a batch comes back empty =='

DECLARE campaign_walk NO SCROLL CURSOR FOR
SELECT
    o.name AS organization,
    p.title,
    p.status,
    p.planned_budget
FROM sales.campaign_plans AS p
INNER JOIN sales.organizations AS o ON p.organization_id = o.id
WHERE p.deleted_at IS NULL
ORDER BY p.planned_start, p.id;

-- ceil(plans / batch) batches with rows, then one more that is empty.
SELECT format('FETCH FORWARD %s FROM campaign_walk', :batch_size)
FROM generate_series(1, (
    SELECT ceil(count(*)::numeric / :batch_size)::integer + 1 FROM sales.campaign_plans
    WHERE deleted_at IS NULL
))
\gexec

CLOSE campaign_walk;

-- -----------------------------------------------------------------------------
-- 2. The batch job a cursor invites: row by row in PL/pgSQL
-- -----------------------------------------------------------------------------
\echo
\echo '== 2. the same data walked row by row by a PL/pgSQL cursor, totals per organization =='

CREATE TEMPORARY TABLE cursor_totals (
    organization_id uuid PRIMARY KEY,
    plans integer NOT NULL,
    launched integer NOT NULL,
    closed integer NOT NULL,
    planned_budget numeric(16, 2) NOT NULL,
    approval_steps integer NOT NULL
) ON COMMIT DROP;

-- psql variables are not expanded inside $$ ... $$; a transaction-local
-- setting carries the batch size into the block.
SELECT set_config('teaching.batch_size', :'batch_size', true) AS batch_size;

\timing on
DO $$
DECLARE
    walk CURSOR FOR
        SELECT id, organization_id, status, planned_budget
        FROM sales.campaign_plans
        WHERE deleted_at IS NULL
        ORDER BY id;
    plan record;
    steps integer;
    in_batch integer := 0;
    batches integer := 0;
    total integer := 0;
    batch_size constant integer := current_setting('teaching.batch_size')::integer;
BEGIN
    OPEN walk;
    LOOP
        FETCH walk INTO plan;
        EXIT WHEN NOT FOUND;
        -- One more query per plan: exactly what the set-based version avoids.
        SELECT count(*) INTO steps FROM sales.approvals WHERE campaign_plan_id = plan.id;
        INSERT INTO cursor_totals AS t
        VALUES (plan.organization_id, 1, (plan.status = 'launched')::integer, (plan.status = 'closed')::integer,
                plan.planned_budget, steps)
        ON CONFLICT (organization_id) DO UPDATE
        SET plans = t.plans + 1,
            launched = t.launched + excluded.launched,
            closed = t.closed + excluded.closed,
            planned_budget = t.planned_budget + excluded.planned_budget,
            approval_steps = t.approval_steps + excluded.approval_steps;
        in_batch := in_batch + 1;
        total := total + 1;
        IF in_batch = batch_size THEN
            batches := batches + 1;
            RAISE NOTICE 'batch %: % plans', batches, in_batch;
            in_batch := 0;
        END IF;
    END LOOP;
    CLOSE walk;
    IF in_batch > 0 THEN
        batches := batches + 1;
        RAISE NOTICE 'batch %: % plans', batches, in_batch;
    END IF;
    RAISE NOTICE 'cursor walk: % plans in % batches', total, batches;
END
$$;
\timing off

-- -----------------------------------------------------------------------------
-- 3. The set-based equivalent, and the proof that both agree
-- -----------------------------------------------------------------------------
\echo
\echo '== 3. one set-based statement =='

\timing on
CREATE TEMPORARY TABLE set_totals ON COMMIT DROP AS
SELECT
    p.organization_id,
    count(*)::integer AS plans,
    count(*) FILTER (WHERE p.status = 'launched')::integer AS launched,
    count(*) FILTER (WHERE p.status = 'closed')::integer AS closed,
    sum(p.planned_budget)::numeric(16, 2) AS planned_budget,
    sum(coalesce(a.steps, 0))::integer AS approval_steps
FROM sales.campaign_plans AS p
LEFT JOIN (
    SELECT
        campaign_plan_id,
        count(*) AS steps
    FROM sales.approvals
    GROUP BY campaign_plan_id
) AS a ON p.id = a.campaign_plan_id
WHERE p.deleted_at IS NULL
GROUP BY p.organization_id;
\timing off

SELECT
    o.name AS organization,
    s.plans,
    s.launched,
    s.closed,
    s.planned_budget,
    s.approval_steps
FROM set_totals AS s
INNER JOIN sales.organizations AS o ON s.organization_id = o.id
ORDER BY o.name;

SELECT
    NOT EXISTS (
        SELECT * FROM cursor_totals
        EXCEPT
        SELECT * FROM set_totals
    )
    AND NOT EXISTS (
        SELECT * FROM set_totals
        EXCEPT
        SELECT * FROM cursor_totals
    ) AS "cursor matches set-based",
    (SELECT sum(plans) FROM cursor_totals) AS "plans walked";

ROLLBACK;
