-- =============================================================================
-- 03_campaign_analytics.sql: does campaign behaviour (reach, interactions,
-- spend, sentiment) move purchases? CTEs, window functions (PARTITION BY,
-- RANK, DENSE_RANK) by month, year, distance band, channel and market; Pearson
-- correlations ranked; two materialized views that make the questions cheap,
-- and the planner's estimated costs before and after, written down.
-- PostgreSQL 15 twin of sql/crm/mssql/scripts/03_campaign_analytics.sql.
--
-- Needs 01_linked_promptads.sql first: spend and reach come from PromptAds
-- (promptads.ad_results, promptads.channels, promptads.markets via postgres_fdw);
-- purchases from crm.sales, sentiment from crm.interactions. Run it as the
-- application role (the owner of the promptads foreign tables).
--
-- The grain of the correlation is a "cell": one campaign, channel, market and
-- calendar month (UTC). Per cell: reach, ad interactions and spend (PromptAds),
-- the mean sentiment of CRM interactions of that campaign, channel and month,
-- and the purchases and revenue the CRM booked. Pearson's r between a
-- behaviour x and purchases y over n cells:
--     r = (n*Sxy - Sx*Sy) / sqrt((n*Sxx - Sx^2) * (n*Syy - Sy^2))
-- (corr() here; the T-SQL twin spells the sums out, SQL Server has no CORR).
--
-- Distance bands: haversine distance from the buyer's coordinates to the centre
-- of the market the sale was booked in. The stores keep no surveyed market
-- centre, so the centre is the centroid of the market's buyers (mean latitude
-- and longitude; fine for markets that do not straddle the antimeridian).
--
-- The two materialized views, and why they are the strategic cut:
--   crm.mv_campaign_cells   the cell table itself. The expensive part of every
--                           question (a foreign scan of ad_results, three
--                           aggregations and their joins) is done once per
--                           refresh instead of once per query.
--   crm.mv_sales_distance   sales aggregated by market, channel, month and
--                           distance band: the per-sale haversine and the
--                           join to customers are done once per refresh.
-- Both have a unique index (required by REFRESH ... CONCURRENTLY, which lets
-- readers keep reading during a refresh) and an index for the usual filter.
--
-- What to look at in the output:
--   1. correlations: per channel and per market, r of each behaviour with
--      purchases, ranked by |r| within the channel or market (RANK) and across
--      all of them (DENSE_RANK over r rounded to 2 places, so ties share a rank);
--   2. revenue by year and month per market and channel, ranked in its month
--      (RANK) and in its year (DENSE_RANK), with the running total of the year;
--   3. revenue by distance band per market, ranked within the market;
--   4. crm.analytics_plan_costs: EXPLAIN (FORMAT JSON) "Total Cost" of each
--      question over the base tables and over the materialized views, and the
--      ratio. The figures for the small seed are in sql/crm/README.md.
--
-- Run: psql -X -v ON_ERROR_STOP=1 -d promptcrm -f sql/crm/postgres/scripts/03_campaign_analytics.sql
-- Re-running it replaces the views; refresh later with
--   REFRESH MATERIALIZED VIEW CONCURRENTLY crm.mv_campaign_cells;
--   REFRESH MATERIALIZED VIEW CONCURRENTLY crm.mv_sales_distance;
-- =============================================================================

-- -----------------------------------------------------------------------------
-- The questions over the base tables (what every report paid before the views)
-- -----------------------------------------------------------------------------

CREATE OR REPLACE VIEW crm.campaign_cells_live AS
WITH ad_cells AS (
    SELECT
        r.campaign_id,
        r.channel_id,
        r.market_id,
        date_trunc('month', r.day)::date AS month,
        sum(r.reach) AS reach,
        sum(r.interactions) AS ad_interactions,
        sum(r.cost) AS spend_usd
    FROM promptads.ad_results AS r
    WHERE r.deleted_at IS NULL
    GROUP BY r.campaign_id, r.channel_id, r.market_id, date_trunc('month', r.day)::date
),
sentiment AS (
    SELECT
        i.campaign_id,
        i.channel_id,
        date_trunc('month', i.occurred_at AT TIME ZONE 'UTC')::date AS month,
        avg(i.sentiment) AS sentiment
    FROM crm.interactions AS i
    WHERE i.deleted_at IS NULL AND i.campaign_id IS NOT NULL AND i.sentiment IS NOT NULL
    GROUP BY i.campaign_id, i.channel_id, date_trunc('month', i.occurred_at AT TIME ZONE 'UTC')::date
),
purchases AS (
    SELECT
        s.campaign_id,
        s.channel_id,
        s.market_id,
        date_trunc('month', s.sold_at AT TIME ZONE 'UTC')::date AS month,
        count(*) AS purchases,
        sum(s.amount_usd) AS revenue_usd
    FROM crm.sales AS s
    WHERE s.deleted_at IS NULL AND s.campaign_id IS NOT NULL
    GROUP BY s.campaign_id, s.channel_id, s.market_id, date_trunc('month', s.sold_at AT TIME ZONE 'UTC')::date
)
SELECT
    a.campaign_id,
    a.channel_id,
    a.market_id,
    a.month,
    a.reach,
    a.ad_interactions,
    a.spend_usd,
    se.sentiment,
    coalesce(p.purchases, 0) AS purchases,
    coalesce(p.revenue_usd, 0) AS revenue_usd
FROM ad_cells AS a
LEFT JOIN sentiment AS se
    ON a.campaign_id = se.campaign_id AND a.channel_id = se.channel_id AND a.month = se.month
LEFT JOIN purchases AS p
    ON a.campaign_id = p.campaign_id AND a.channel_id = p.channel_id
       AND a.market_id = p.market_id AND a.month = p.month;

CREATE OR REPLACE VIEW crm.sales_distance_live AS
WITH located AS (
    SELECT s.market_id, s.channel_id, s.sold_at, s.amount_usd, s.customer_id,
           c.latitude::float8 AS lat, c.longitude::float8 AS lon
    FROM crm.sales AS s
    INNER JOIN crm.customers AS c ON s.customer_id = c.id
    WHERE s.deleted_at IS NULL AND c.latitude IS NOT NULL
),
centres AS (
    SELECT l.market_id, avg(l.lat) AS lat, avg(l.lon) AS lon
    FROM located AS l
    GROUP BY l.market_id
),
measured AS (
    SELECT
        l.market_id,
        l.channel_id,
        date_trunc('month', l.sold_at AT TIME ZONE 'UTC')::date AS month,
        l.amount_usd,
        l.customer_id,
        -- haversine, Earth radius 6371 km
        2 * 6371 * asin(sqrt(
            power(sin(radians(l.lat - m.lat) / 2), 2)
            + cos(radians(m.lat)) * cos(radians(l.lat)) * power(sin(radians(l.lon - m.lon) / 2), 2)
        )) AS km
    FROM located AS l
    INNER JOIN centres AS m ON l.market_id = m.market_id
)
SELECT
    x.market_id,
    x.channel_id,
    x.month,
    CASE
        WHEN x.km < 25 THEN '0-25 km'
        WHEN x.km < 100 THEN '25-100 km'
        WHEN x.km < 500 THEN '100-500 km'
        WHEN x.km < 1500 THEN '500-1500 km'
        ELSE '1500+ km'
    END AS distance_band,
    count(*) AS purchases,
    count(DISTINCT x.customer_id) AS buyers,
    sum(x.amount_usd) AS revenue_usd
FROM measured AS x
GROUP BY x.market_id, x.channel_id, x.month, 4;

-- -----------------------------------------------------------------------------
-- The materialized views
-- -----------------------------------------------------------------------------

DROP MATERIALIZED VIEW IF EXISTS crm.mv_campaign_cells CASCADE;
CREATE MATERIALIZED VIEW crm.mv_campaign_cells AS
SELECT * FROM crm.campaign_cells_live;
CREATE UNIQUE INDEX mv_campaign_cells_key ON crm.mv_campaign_cells (campaign_id, channel_id, market_id, month);
CREATE INDEX mv_campaign_cells_market_id_month_idx ON crm.mv_campaign_cells (market_id, month);

DROP MATERIALIZED VIEW IF EXISTS crm.mv_sales_distance CASCADE;
CREATE MATERIALIZED VIEW crm.mv_sales_distance AS
SELECT * FROM crm.sales_distance_live;
CREATE UNIQUE INDEX mv_sales_distance_key ON crm.mv_sales_distance (market_id, channel_id, month, distance_band);
CREATE INDEX mv_sales_distance_month_idx ON crm.mv_sales_distance (month);

ANALYZE crm.mv_campaign_cells;
ANALYZE crm.mv_sales_distance;

-- The questions, written once over a cell source; the _live twins read the base tables.
CREATE OR REPLACE FUNCTION crm.behaviour_purchase_correlations(p_from_views boolean)
RETURNS TABLE (
    scope text, scope_code text, metric text, cells bigint, r numeric, rank_in_scope bigint, overall_rank bigint
)
LANGUAGE sql STABLE AS $$
    WITH cells AS (
        SELECT * FROM crm.mv_campaign_cells WHERE p_from_views
        UNION ALL
        SELECT * FROM crm.campaign_cells_live WHERE NOT p_from_views
    ),
    labelled AS (
        SELECT c.*, ch.code AS channel_code, m.code AS market_code
        FROM cells AS c
        INNER JOIN promptads.channels AS ch ON c.channel_id = ch.id
        INNER JOIN promptads.markets AS m ON c.market_id = m.id
    ),
    pairs AS (
        SELECT s.scope, s.scope_code, v.metric, v.x, l.purchases::float8 AS y
        FROM labelled AS l
        CROSS JOIN LATERAL (VALUES ('channel', l.channel_code), ('market', l.market_code)) AS s (scope, scope_code)
        CROSS JOIN LATERAL (VALUES
            ('reach', l.reach::float8),
            ('interactions', l.ad_interactions::float8),
            ('spend', l.spend_usd::float8),
            ('sentiment', l.sentiment::float8)
        ) AS v (metric, x)
        WHERE v.x IS NOT NULL
    ),
    correlated AS (
        SELECT p.scope, p.scope_code, p.metric, count(*) AS cells, round(corr(p.y, p.x)::numeric, 4) AS r
        FROM pairs AS p
        GROUP BY p.scope, p.scope_code, p.metric
        HAVING count(*) >= 3
    )
    SELECT
        c.scope, c.scope_code, c.metric, c.cells, c.r,
        RANK() OVER (PARTITION BY c.scope, c.scope_code ORDER BY abs(c.r) DESC NULLS LAST),
        DENSE_RANK() OVER (PARTITION BY c.scope ORDER BY round(abs(c.r), 2) DESC NULLS LAST)
    FROM correlated AS c
$$;

CREATE OR REPLACE FUNCTION crm.revenue_by_period(p_from_views boolean)
RETURNS TABLE (
    year integer, month date, market_code text, channel_code text, purchases bigint, revenue_usd numeric,
    rank_in_month bigint, dense_rank_in_year bigint, year_running_usd numeric
)
LANGUAGE sql STABLE AS $$
    WITH cells AS (
        SELECT * FROM crm.mv_campaign_cells WHERE p_from_views
        UNION ALL
        SELECT * FROM crm.campaign_cells_live WHERE NOT p_from_views
    ),
    monthly AS (
        SELECT
            extract(YEAR FROM c.month)::integer AS year, c.month, m.code AS market_code, ch.code AS channel_code,
            sum(c.purchases)::bigint AS purchases, sum(c.revenue_usd) AS revenue_usd
        FROM cells AS c
        INNER JOIN promptads.channels AS ch ON c.channel_id = ch.id
        INNER JOIN promptads.markets AS m ON c.market_id = m.id
        GROUP BY 1, 2, 3, 4
    )
    SELECT
        mo.*,
        RANK() OVER (PARTITION BY mo.month ORDER BY mo.revenue_usd DESC),
        DENSE_RANK() OVER (PARTITION BY mo.year ORDER BY mo.revenue_usd DESC),
        sum(mo.revenue_usd) OVER (
            PARTITION BY mo.year, mo.market_code, mo.channel_code ORDER BY mo.month
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        )
    FROM monthly AS mo
$$;

CREATE OR REPLACE FUNCTION crm.revenue_by_distance_band(p_from_views boolean)
RETURNS TABLE (
    market_code text, distance_band text, purchases bigint, buyers bigint, revenue_usd numeric, rank_in_market bigint
)
LANGUAGE sql STABLE AS $$
    WITH bands AS (
        SELECT * FROM crm.mv_sales_distance WHERE p_from_views
        UNION ALL
        SELECT * FROM crm.sales_distance_live WHERE NOT p_from_views
    ),
    per_band AS (
        SELECT m.code AS market_code, b.distance_band,
               sum(b.purchases)::bigint AS purchases, sum(b.buyers)::bigint AS buyers, sum(b.revenue_usd) AS revenue_usd
        FROM bands AS b
        INNER JOIN promptads.markets AS m ON b.market_id = m.id
        GROUP BY 1, 2
    )
    SELECT p.*, RANK() OVER (PARTITION BY p.market_code ORDER BY p.revenue_usd DESC)
    FROM per_band AS p
$$;

-- -----------------------------------------------------------------------------
-- 1-3: the answers (from the views)
-- -----------------------------------------------------------------------------

SELECT * FROM crm.behaviour_purchase_correlations(true)
ORDER BY scope, scope_code, rank_in_scope, metric;

SELECT * FROM crm.revenue_by_period(true)
WHERE rank_in_month <= 3
ORDER BY month, rank_in_month, market_code, channel_code;

SELECT * FROM crm.revenue_by_distance_band(true)
ORDER BY market_code, rank_in_market;

-- -----------------------------------------------------------------------------
-- 4: estimated cost before and after. SQL functions inline into the caller, so
-- EXPLAIN sees each question's real plan; p_from_views is a constant and the
-- planner drops the other branch of the UNION ALL.
-- -----------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION crm.estimated_cost(p_query text) RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || p_query INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Total Cost')::numeric;
END;
$$;

DROP TABLE IF EXISTS crm.analytics_plan_costs;
CREATE TABLE crm.analytics_plan_costs AS
SELECT
    q.question,
    crm.estimated_cost(format('SELECT * FROM %s(false)', q.fn)) AS cost_base_tables,
    crm.estimated_cost(format('SELECT * FROM %s(true)', q.fn)) AS cost_materialized
FROM (VALUES
    ('correlations', 'crm.behaviour_purchase_correlations'),
    ('revenue by period', 'crm.revenue_by_period'),
    ('revenue by distance band', 'crm.revenue_by_distance_band')
) AS q (question, fn);

SELECT question, cost_base_tables, cost_materialized,
       round(cost_base_tables / nullif(cost_materialized, 0), 1) AS times_cheaper
FROM crm.analytics_plan_costs
ORDER BY question;

-- The views stay readable while they refresh (needs the unique indexes above).
REFRESH MATERIALIZED VIEW CONCURRENTLY crm.mv_campaign_cells;
REFRESH MATERIALIZED VIEW CONCURRENTLY crm.mv_sales_distance;
