-- =============================================================================
-- 06_campaign_joins.sql: COALESCE, CASE, LEFT JOIN, RIGHT JOIN and CROSS JOIN
-- on questions the business asks about its campaigns
--
-- Questions
--   1. LEFT JOIN + COALESCE: every campaign plan with what the ETL knows about
--      its results; plans the ETL has not summarised keep their row, with
--      zeros and "not loaded yet" instead of NULLs.
--   2. CASE: each plan's budget band and result verdict, then a CASE pivot of
--      plans per organization and band (one pass over the table).
--   3. RIGHT JOIN: which products were never advertised? (A RIGHT JOIN keeps
--      every row of the right-hand table; the same LEFT JOIN with the tables
--      swapped gives the same answer, and is what most teams write.)
--   4. CROSS JOIN: plans per organization and status INCLUDING the zeros, the
--      grid a dashboard needs; and brands x the last six months of the data,
--      to find months in which a brand launched nothing.
--
-- The ETL (issue #15) is not built yet, so campaign_summaries is empty. This
-- script stands in for it INSIDE ITS TRANSACTION: it writes a summary for every
-- closed plan (figures derived from the plan's budget, labelled as such) and
-- none for launched ones, then rolls everything back. Once the ETL runs, drop
-- the "stand-in" block and the questions read the real figures.
--
-- What to look at in the output
--   - section 1: closed plans with revenue and ROI, launched ones with
--     "not loaded yet" and 0; "plans without a summary" = launched plans;
--   - section 2: the band columns of the pivot add up to each organization's
--     plans;
--   - section 3: "right join = swapped left join | t";
--   - section 4: "grid cells | organizations x statuses" with zeros kept.
--
-- Run: psql -X -v ON_ERROR_STOP=1 -d promptsales -f sql/sales/scripts/06_campaign_joins.sql
-- Needs: INSERT on campaign_summaries for the stand-in (rolled back).
-- =============================================================================

\set QUIET on
\pset footer off
\pset null '(null)'
\set QUIET off

BEGIN;

-- -----------------------------------------------------------------------------
-- Stand-in for the ETL: summaries of the closed plans (rolled back at the end)
-- -----------------------------------------------------------------------------
\echo
\echo '== stand-in for the ETL: one summary per CLOSED plan, derived from its budget =='

-- Deterministic figures: cost is 60-99% of the planned budget and the return
-- on spend 0.5-3.4x, both from a hash of the campaign id; the funnel keeps
-- views >= interactions >= sales, as the table's CHECK demands.
INSERT INTO sales.campaign_summaries (
    campaign_id, organization_id, brand_id, product_id, name, status, starts_at, ends_at, budget,
    reach, customers_reached, views, interactions, likes, sales_count, revenue, cost, roi, success_rate,
    source_updated_at, refreshed_at
)
SELECT
    f.campaign_id,
    f.organization_id,
    f.brand_id,
    f.product_id,
    f.title,
    'finished',
    f.planned_start,
    f.planned_end,
    f.planned_budget,
    f.views / 3,
    f.customers,
    f.views,
    f.views / 20,
    f.views / 50,
    f.sales_count,
    f.revenue,
    f.cost,
    round((f.revenue - f.cost) / f.cost, 4),
    round(f.sales_count::numeric / f.customers, 6),
    f.planned_end,
    now()
FROM (
    SELECT
        p.*,
        h.cost,
        round(h.cost * (0.5 + h.x % 30 / 10.0), 2) AS revenue,
        (p.planned_budget * 40)::bigint AS views,
        400 + h.x % 600 AS customers,
        greatest(1, (h.cost * (0.5 + h.x % 30 / 10.0) / 120)::bigint) AS sales_count
    FROM sales.campaign_plans AS p
    CROSS JOIN LATERAL (
        SELECT
            abs(hashtext(p.campaign_id::text)::bigint) AS x,
            round(p.planned_budget * (60 + abs(hashtext(p.campaign_id::text)::bigint) % 40) / 100.0, 2) AS cost
    ) AS h
    WHERE p.status = 'closed' AND p.deleted_at IS NULL
) AS f;

-- -----------------------------------------------------------------------------
-- 1. LEFT JOIN + COALESCE
-- -----------------------------------------------------------------------------
\echo
\echo '== 1. every plan and its results: LEFT JOIN keeps plans without a summary =='

SELECT
    o.name AS organization,
    p.title,
    p.status AS plan_status,
    coalesce(s.status, 'not loaded yet') AS results,
    coalesce(s.revenue, 0) AS revenue,
    coalesce(s.cost, 0) AS cost,
    -- NULLIF turns a zero cost into NULL, so the division cannot fail; COALESCE
    -- then says why there is no ROI.
    coalesce(round((s.revenue - s.cost) / nullif(s.cost, 0), 2)::text, 'n/a') AS roi,
    coalesce(pr.name, '(brand-level campaign)') AS product
FROM sales.campaign_plans AS p
INNER JOIN sales.organizations AS o ON p.organization_id = o.id
LEFT JOIN sales.campaign_summaries AS s ON p.campaign_id = s.campaign_id AND s.deleted_at IS NULL
LEFT JOIN sales.products AS pr ON p.product_id = pr.id
WHERE p.deleted_at IS NULL
ORDER BY o.name, p.planned_start DESC, p.id;

SELECT
    count(*) FILTER (WHERE s.campaign_id IS NULL) AS "plans without a summary",
    count(*) FILTER (WHERE p.status = 'launched') AS "launched plans",
    -- An INNER JOIN would have dropped them: that is the difference.
    count(s.campaign_id) AS "rows an inner join keeps"
FROM sales.campaign_plans AS p
LEFT JOIN sales.campaign_summaries AS s ON p.campaign_id = s.campaign_id
WHERE p.deleted_at IS NULL;

-- -----------------------------------------------------------------------------
-- 2. CASE
-- -----------------------------------------------------------------------------
\echo
\echo '== 2. CASE: budget band and verdict per plan, then a pivot per organization =='

SELECT
    p.title,
    p.planned_budget,
    CASE
        WHEN p.planned_budget < 25000 THEN 'small (< 25k)'
        WHEN p.planned_budget < 100000 THEN 'medium (25k-100k)'
        ELSE 'large (>= 100k)'
    END AS budget_band,
    -- A searched CASE is evaluated top-down: the first true branch wins, so
    -- the "no figures yet" test must come before the ROI tests.
    CASE
        WHEN s.campaign_id IS NULL THEN 'running: no figures yet'
        WHEN s.roi >= 1 THEN 'returned at least twice its cost'
        WHEN s.roi >= 0 THEN 'paid back'
        ELSE 'lost money'
    END AS verdict
FROM sales.campaign_plans AS p
LEFT JOIN sales.campaign_summaries AS s ON p.campaign_id = s.campaign_id
WHERE p.deleted_at IS NULL
ORDER BY p.planned_budget DESC, p.id;

SELECT
    o.name AS organization,
    count(*) AS plans,
    sum(CASE WHEN p.planned_budget < 25000 THEN 1 ELSE 0 END) AS small,
    sum(CASE WHEN p.planned_budget >= 25000 AND p.planned_budget < 100000 THEN 1 ELSE 0 END) AS medium,
    sum(CASE WHEN p.planned_budget >= 100000 THEN 1 ELSE 0 END) AS large,
    sum(CASE WHEN p.status = 'launched' THEN p.planned_budget ELSE 0 END) AS budget_running
FROM sales.campaign_plans AS p
INNER JOIN sales.organizations AS o ON p.organization_id = o.id
WHERE p.deleted_at IS NULL
GROUP BY o.name
ORDER BY o.name;

-- -----------------------------------------------------------------------------
-- 3. RIGHT JOIN
-- -----------------------------------------------------------------------------
\echo
\echo '== 3. RIGHT JOIN: products and how often they were advertised (never = 0) =='

SELECT
    b.name AS brand,
    pr.name AS product,
    count(p.id) AS campaigns,
    coalesce(sum(p.planned_budget), 0) AS planned_budget
FROM sales.campaign_plans AS p
RIGHT JOIN sales.products AS pr ON p.product_id = pr.id AND p.deleted_at IS NULL
INNER JOIN sales.brands AS b ON pr.brand_id = b.id
WHERE pr.deleted_at IS NULL
GROUP BY b.name, pr.name, pr.id
ORDER BY campaigns, b.name, pr.name;

SELECT
    r.never AS "products never advertised",
    r.never = l.never AS "right join = swapped left join"
FROM (
    SELECT count(*) FILTER (WHERE p.id IS NULL) AS never
    FROM sales.campaign_plans AS p
    RIGHT JOIN sales.products AS pr ON p.product_id = pr.id AND p.deleted_at IS NULL
    WHERE pr.deleted_at IS NULL
) AS r
CROSS JOIN (
    SELECT count(*) FILTER (WHERE p.id IS NULL) AS never
    FROM sales.products AS pr
    LEFT JOIN sales.campaign_plans AS p ON pr.id = p.product_id AND p.deleted_at IS NULL
    WHERE pr.deleted_at IS NULL
) AS l;

-- -----------------------------------------------------------------------------
-- 4. CROSS JOIN
-- -----------------------------------------------------------------------------
\echo
\echo '== 4a. CROSS JOIN: plans per organization and status, zeros included =='

-- Every (organization, status) pair exists in the grid, whether or not a plan
-- has it; the LEFT JOIN then counts what is there.
SELECT
    o.name AS organization,
    st.status,
    count(p.id) AS plans
FROM sales.organizations AS o
CROSS JOIN (
    VALUES ('draft'), ('in_review'), ('approved'), ('rejected'), ('launched'), ('closed')
) AS st (status)
LEFT JOIN sales.campaign_plans AS p
    ON
        o.id = p.organization_id
        AND st.status = p.status
        AND p.deleted_at IS NULL
WHERE o.deleted_at IS NULL
GROUP BY o.name, st.status
ORDER BY o.name, st.status;

SELECT
    count(*) AS "grid cells",
    (SELECT count(*) FROM sales.organizations WHERE deleted_at IS NULL) * 6 AS "organizations x statuses",
    count(*) FILTER (WHERE plans = 0) AS "empty cells"
FROM (
    SELECT
        o.id,
        st.status,
        count(p.id) AS plans
    FROM sales.organizations AS o
    CROSS JOIN (
        VALUES ('draft'), ('in_review'), ('approved'), ('rejected'), ('launched'), ('closed')
    ) AS st (status)
    LEFT JOIN sales.campaign_plans AS p
        ON
            o.id = p.organization_id
            AND st.status = p.status
            AND p.deleted_at IS NULL
    WHERE o.deleted_at IS NULL
    GROUP BY o.id, st.status
) AS grid;

\echo '== 4b. CROSS JOIN with a calendar: brands x the last six months of plans =='

SELECT
    b.name AS brand,
    to_char(m.month, 'YYYY-MM') AS month,
    count(p.id) AS plans_started
FROM sales.brands AS b
CROSS JOIN generate_series(
    date_trunc('month', (SELECT max(planned_start) FROM sales.campaign_plans)) - interval '5 months',
    date_trunc('month', (SELECT max(planned_start) FROM sales.campaign_plans)),
    interval '1 month'
) AS m (month)
LEFT JOIN sales.campaign_plans AS p
    ON
        b.id = p.brand_id
        AND p.deleted_at IS NULL
        AND p.planned_start >= m.month
        AND p.planned_start < m.month + interval '1 month'
WHERE b.deleted_at IS NULL
GROUP BY b.name, m.month
ORDER BY b.name, m.month;

\echo
\echo '== done: ROLLBACK, the stand-in summaries are gone =='
ROLLBACK;
