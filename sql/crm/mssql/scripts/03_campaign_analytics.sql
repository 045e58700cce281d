-- =============================================================================
-- 03_campaign_analytics.sql: does campaign behaviour (reach, interactions,
-- spend, sentiment) move purchases? CTEs, PARTITION BY, RANK and DENSE_RANK by
-- month, year, distance band, channel and market; Pearson correlations ranked;
-- indexed views that make it cheap; the estimated plans before and after.
-- SQL Server 2022. PostgreSQL twin (run by the tests, with its measured costs in
-- sql/crm/README.md): sql/crm/postgres/scripts/03_campaign_analytics.sql.
--
-- Needs 01_linked_server_promptads.sql: reach, ad interactions and spend come
-- from PromptAds through OPENQUERY, aggregated there to one row per campaign,
-- channel, market and month (an indexed view cannot reference a linked server,
-- and does not need to: the remote side already returns few rows).
--
-- The grain of the correlation is a "cell": one campaign, channel, market and
-- calendar month (UTC). SQL Server has no CORR aggregate; Pearson's r over n
-- cells is spelled out:
--     r = (n*Sxy - Sx*Sy) / sqrt((n*Sxx - Sx^2) * (n*Syy - Sy^2))
-- computed in FLOAT (the sums of squares of spend overflow DECIMAL(38, 2) scales).
--
-- Distance bands: haversine distance from the buyer to the centre of the
-- market the sale was booked in; the centre is the centroid of the market's
-- buyers (the stores keep no surveyed centre).
--
-- The indexed views (SCHEMABINDING, two-part names, COUNT_BIG(*), SUM over
-- non-nullable expressions only, a unique clustered index first):
--   crm.iv_sales_month_cells        purchases and revenue per campaign, channel,
--                                   market and month: replaces a scan and a
--                                   hash aggregate of crm.sales.
--   crm.iv_interaction_month_cells  sentiment sum and count per campaign,
--                                   channel and month: replaces the scan and
--                                   aggregate of crm.interactions (the biggest table).
--   crm.iv_market_buyer_centres     per market: sums of buyers' coordinates and
--                                   the count, so the centre is one seek.
-- SQL Server maintains them with every write to the base tables (the cost is
-- paid by writers, a small one here: a sale or an interaction updates one row of
-- each view). Enterprise edition matches them automatically; other editions
-- need WITH (NOEXPAND), which the queries use so the plan is the same anywhere.
--
-- What to look at:
--   1. correlations per channel and per market, RANK by |r| within each,
--      DENSE_RANK across them;
--   2. revenue per market and channel by month, RANK in the month, DENSE_RANK
--      in the year, running total of the year;
--   3. revenue per distance band, ranked within the market;
--   4. the estimated plans (SET SHOWPLAN_XML ON) of the correlation query over the
--      base tables and over the views: compare StatementSubTreeCost of the root
--      StmtSimple element, and write both numbers into sql/crm/README.md.
--
-- Run: sqlcmd -d PromptCrm -i sql/crm/mssql/scripts/03_campaign_analytics.sql
-- =============================================================================

SET NOCOUNT ON;
SET XACT_ABORT ON;
-- Required to create and to use indexed views.
SET ANSI_NULLS ON;
SET ANSI_PADDING ON;
SET ANSI_WARNINGS ON;
SET ARITHABORT ON;
SET CONCAT_NULL_YIELDS_NULL ON;
SET QUOTED_IDENTIFIER ON;
SET NUMERIC_ROUNDABORT OFF;
GO

-- -----------------------------------------------------------------------------
-- The indexed views
-- -----------------------------------------------------------------------------

CREATE OR ALTER VIEW crm.iv_sales_month_cells
WITH SCHEMABINDING
AS
SELECT
    s.campaign_id,
    s.channel_id,
    s.market_id,
    DATEFROMPARTS(YEAR(s.sold_at), MONTH(s.sold_at), 1) AS month_start,
    COUNT_BIG(*) AS purchases,
    SUM(s.amount_usd) AS revenue_usd,
    SUM(CAST(s.quantity AS BIGINT)) AS units
FROM crm.sales AS s
WHERE s.deleted_at IS NULL AND s.campaign_id IS NOT NULL
GROUP BY s.campaign_id, s.channel_id, s.market_id, DATEFROMPARTS(YEAR(s.sold_at), MONTH(s.sold_at), 1);
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'iv_sales_month_cells_key')
    CREATE UNIQUE CLUSTERED INDEX iv_sales_month_cells_key
    ON crm.iv_sales_month_cells (campaign_id, channel_id, market_id, month_start);
GO

CREATE OR ALTER VIEW crm.iv_interaction_month_cells
WITH SCHEMABINDING
AS
SELECT
    i.campaign_id,
    i.channel_id,
    DATEFROMPARTS(YEAR(i.occurred_at), MONTH(i.occurred_at), 1) AS month_start,
    COUNT_BIG(*) AS interactions,
    SUM(ISNULL(i.sentiment, 0)) AS sentiment_sum,
    SUM(CASE WHEN i.sentiment IS NULL THEN 0 ELSE 1 END) AS sentiment_count
FROM crm.interactions AS i
WHERE i.deleted_at IS NULL AND i.campaign_id IS NOT NULL
GROUP BY i.campaign_id, i.channel_id, DATEFROMPARTS(YEAR(i.occurred_at), MONTH(i.occurred_at), 1);
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'iv_interaction_month_cells_key')
    CREATE UNIQUE CLUSTERED INDEX iv_interaction_month_cells_key
    ON crm.iv_interaction_month_cells (campaign_id, channel_id, month_start);
GO

CREATE OR ALTER VIEW crm.iv_market_buyer_centres
WITH SCHEMABINDING
AS
SELECT
    s.market_id,
    COUNT_BIG(*) AS located_sales,
    SUM(ISNULL(c.latitude, 0)) AS latitude_sum,
    SUM(ISNULL(c.longitude, 0)) AS longitude_sum
FROM crm.sales AS s
INNER JOIN crm.customers AS c ON s.customer_id = c.id
WHERE s.deleted_at IS NULL AND c.latitude IS NOT NULL
GROUP BY s.market_id;
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'iv_market_buyer_centres_key')
    CREATE UNIQUE CLUSTERED INDEX iv_market_buyer_centres_key ON crm.iv_market_buyer_centres (market_id);
GO

-- Behaviour from PromptAds, aggregated remotely, in a temporary table so the
-- three questions below read it once.
DROP TABLE IF EXISTS #ad_cells;
SELECT
    a.campaign_id,
    a.channel_id,
    a.channel_code,
    a.market_id,
    a.market_code,
    a.month_start,
    a.reach,
    a.ad_interactions,
    a.spend_usd
INTO #ad_cells
FROM OPENQUERY(PROMPTADS, '
    SELECT r.campaign_id, r.channel_id, ch.code AS channel_code, r.market_id, m.code AS market_code,
           DATEFROMPARTS(YEAR(r.day), MONTH(r.day), 1) AS month_start,
           SUM(r.reach) AS reach, SUM(r.interactions) AS ad_interactions, SUM(r.cost) AS spend_usd
    FROM ads.ad_results AS r
    JOIN ads.channels AS ch ON ch.id = r.channel_id
    JOIN ads.markets AS m ON m.id = r.market_id
    WHERE r.deleted_at IS NULL
    GROUP BY r.campaign_id, r.channel_id, ch.code, r.market_id, m.code, DATEFROMPARTS(YEAR(r.day), MONTH(r.day), 1)') AS a;
CREATE UNIQUE CLUSTERED INDEX ad_cells_key ON #ad_cells (campaign_id, channel_id, market_id, month_start);

-- -----------------------------------------------------------------------------
-- 1. Correlations of behaviour with purchases, ranked (over the indexed views)
-- -----------------------------------------------------------------------------
WITH cells AS (
    SELECT
        a.channel_code,
        a.market_code,
        CAST(a.reach AS FLOAT) AS reach,
        CAST(a.ad_interactions AS FLOAT) AS ad_interactions,
        CAST(a.spend_usd AS FLOAT) AS spend_usd,
        CAST(i.sentiment_sum AS FLOAT) / NULLIF(i.sentiment_count, 0) AS sentiment,
        CAST(COALESCE(s.purchases, 0) AS FLOAT) AS purchases
    FROM #ad_cells AS a
    LEFT JOIN crm.iv_sales_month_cells AS s WITH (NOEXPAND)
        ON
            a.campaign_id = s.campaign_id AND a.channel_id = s.channel_id
            AND a.market_id = s.market_id AND a.month_start = s.month_start
    LEFT JOIN crm.iv_interaction_month_cells AS i WITH (NOEXPAND)
        ON a.campaign_id = i.campaign_id AND a.channel_id = i.channel_id AND a.month_start = i.month_start
),

pairs AS (
    SELECT
        sc.scope,
        sc.scope_code,
        m.metric,
        m.x,
        c.purchases AS y
    FROM cells AS c
    CROSS APPLY (VALUES ('channel', c.channel_code), ('market', c.market_code)) AS sc (scope, scope_code)
    CROSS APPLY (
        VALUES
        ('reach', c.reach),
        ('interactions', c.ad_interactions),
        ('spend', c.spend_usd),
        ('sentiment', c.sentiment)
    ) AS m (metric, x)
    WHERE m.x IS NOT NULL
),

sums AS (
    SELECT
        p.scope,
        p.scope_code,
        p.metric,
        CAST(COUNT(*) AS FLOAT) AS n,
        SUM(p.x) AS sx,
        SUM(p.y) AS sy,
        SUM(p.x * p.y) AS sxy,
        SUM(p.x * p.x) AS sxx,
        SUM(p.y * p.y) AS syy
    FROM pairs AS p
    GROUP BY p.scope, p.scope_code, p.metric
    HAVING COUNT(*) >= 3
),

correlated AS (
    SELECT
        s.scope,
        s.scope_code,
        s.metric,
        CAST(s.n AS INT) AS cells,
        CAST(ROUND(
            (s.n * s.sxy - s.sx * s.sy)
            / NULLIF(SQRT(NULLIF((s.n * s.sxx - s.sx * s.sx) * (s.n * s.syy - s.sy * s.sy), 0)), 0),
            4
        ) AS DECIMAL(6, 4)) AS r
    FROM sums AS s
)

SELECT
    c.scope,
    c.scope_code,
    c.metric,
    c.cells,
    c.r,
    RANK() OVER (PARTITION BY c.scope, c.scope_code ORDER BY ABS(c.r) DESC) AS rank_in_scope,
    DENSE_RANK() OVER (PARTITION BY c.scope ORDER BY ROUND(ABS(c.r), 2) DESC) AS overall_rank
FROM correlated AS c
ORDER BY c.scope, c.scope_code, rank_in_scope, c.metric;

-- -----------------------------------------------------------------------------
-- 2. Revenue by year and month, per market and channel
-- -----------------------------------------------------------------------------
WITH monthly AS (
    SELECT
        YEAR(a.month_start) AS sales_year,
        a.month_start,
        a.market_code,
        a.channel_code,
        SUM(COALESCE(s.purchases, 0)) AS purchases,
        SUM(COALESCE(s.revenue_usd, 0)) AS revenue_usd
    FROM #ad_cells AS a
    LEFT JOIN crm.iv_sales_month_cells AS s WITH (NOEXPAND)
        ON
            a.campaign_id = s.campaign_id AND a.channel_id = s.channel_id
            AND a.market_id = s.market_id AND a.month_start = s.month_start
    GROUP BY YEAR(a.month_start), a.month_start, a.market_code, a.channel_code
),

ranked AS (
    SELECT
        mo.sales_year,
        mo.month_start,
        mo.market_code,
        mo.channel_code,
        mo.purchases,
        mo.revenue_usd,
        RANK() OVER (PARTITION BY mo.month_start ORDER BY mo.revenue_usd DESC) AS rank_in_month,
        DENSE_RANK() OVER (PARTITION BY mo.sales_year ORDER BY mo.revenue_usd DESC) AS dense_rank_in_year,
        SUM(mo.revenue_usd) OVER (
            PARTITION BY mo.sales_year, mo.market_code, mo.channel_code ORDER BY mo.month_start
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS year_running_usd
    FROM monthly AS mo
)

SELECT
    r.sales_year,
    r.month_start,
    r.market_code,
    r.channel_code,
    r.purchases,
    r.revenue_usd,
    r.rank_in_month,
    r.dense_rank_in_year,
    r.year_running_usd
FROM ranked AS r
WHERE r.rank_in_month <= 3
ORDER BY r.month_start, r.rank_in_month, r.market_code, r.channel_code;

-- -----------------------------------------------------------------------------
-- 3. Revenue by distance band from the market's centre
-- -----------------------------------------------------------------------------
WITH centres AS (
    SELECT
        v.market_id,
        CAST(v.latitude_sum AS FLOAT) / v.located_sales AS lat,
        CAST(v.longitude_sum AS FLOAT) / v.located_sales AS lon
    FROM crm.iv_market_buyer_centres AS v WITH (NOEXPAND)
),

measured AS (
    SELECT
        s.market_id,
        s.amount_usd,
        s.customer_id,
        2 * 6371 * ASIN(SQRT(
            POWER(SIN(RADIANS(CAST(c.latitude AS FLOAT) - m.lat) / 2), 2)
            + COS(RADIANS(m.lat)) * COS(RADIANS(CAST(c.latitude AS FLOAT)))
            * POWER(SIN(RADIANS(CAST(c.longitude AS FLOAT) - m.lon) / 2), 2)
        )) AS km
    FROM crm.sales AS s
    INNER JOIN crm.customers AS c ON s.customer_id = c.id
    INNER JOIN centres AS m ON s.market_id = m.market_id
    WHERE s.deleted_at IS NULL AND c.latitude IS NOT NULL
),

banded AS (
    SELECT
        x.market_id,
        x.amount_usd,
        x.customer_id,
        CASE
            WHEN x.km < 25 THEN '0-25 km'
            WHEN x.km < 100 THEN '25-100 km'
            WHEN x.km < 500 THEN '100-500 km'
            WHEN x.km < 1500 THEN '500-1500 km'
            ELSE '1500+ km'
        END AS distance_band
    FROM measured AS x
),

per_band AS (
    SELECT
        b.market_id,
        b.distance_band,
        COUNT_BIG(*) AS purchases,
        COUNT(DISTINCT b.customer_id) AS buyers,
        SUM(b.amount_usd) AS revenue_usd
    FROM banded AS b
    GROUP BY b.market_id, b.distance_band
)

SELECT
    p.market_id,
    p.distance_band,
    p.purchases,
    p.buyers,
    p.revenue_usd,
    RANK() OVER (PARTITION BY p.market_id ORDER BY p.revenue_usd DESC) AS rank_in_market
FROM per_band AS p
ORDER BY p.market_id, rank_in_market;
GO

-- -----------------------------------------------------------------------------
-- 4. Estimated plans before and after. SHOWPLAN_XML returns the plan instead of
-- running the statement; read StatementSubTreeCost on the StmtSimple element.
-- -----------------------------------------------------------------------------
SET SHOWPLAN_XML ON;
GO

-- Before: the cells from the base tables (scan + aggregate of sales and interactions).
WITH sales_cells AS (
    SELECT
        s.campaign_id,
        s.channel_id,
        s.market_id,
        DATEFROMPARTS(YEAR(s.sold_at), MONTH(s.sold_at), 1) AS month_start,
        COUNT_BIG(*) AS purchases
    FROM crm.sales AS s
    WHERE s.deleted_at IS NULL AND s.campaign_id IS NOT NULL
    GROUP BY s.campaign_id, s.channel_id, s.market_id, DATEFROMPARTS(YEAR(s.sold_at), MONTH(s.sold_at), 1)
),

sentiment_cells AS (
    SELECT
        i.campaign_id,
        i.channel_id,
        DATEFROMPARTS(YEAR(i.occurred_at), MONTH(i.occurred_at), 1) AS month_start,
        AVG(CAST(i.sentiment AS FLOAT)) AS sentiment
    FROM crm.interactions AS i
    WHERE i.deleted_at IS NULL AND i.campaign_id IS NOT NULL
    GROUP BY i.campaign_id, i.channel_id, DATEFROMPARTS(YEAR(i.occurred_at), MONTH(i.occurred_at), 1)
)

SELECT
    s.market_id,
    COUNT(*) AS cells,
    SUM(CAST(s.purchases AS FLOAT) * COALESCE(se.sentiment, 0)) AS sxy
FROM sales_cells AS s
LEFT JOIN sentiment_cells AS se
    ON s.campaign_id = se.campaign_id AND s.channel_id = se.channel_id AND s.month_start = se.month_start
GROUP BY s.market_id;
GO

-- After: the same answer from the indexed views (clustered index scans of a few
-- hundred rows instead of the tables).
SELECT
    s.market_id,
    COUNT(*) AS cells,
    SUM(CAST(s.purchases AS FLOAT) * COALESCE(CAST(i.sentiment_sum AS FLOAT) / NULLIF(i.sentiment_count, 0), 0)) AS sxy
FROM crm.iv_sales_month_cells AS s WITH (NOEXPAND)
LEFT JOIN crm.iv_interaction_month_cells AS i WITH (NOEXPAND)
    ON s.campaign_id = i.campaign_id AND s.channel_id = i.channel_id AND s.month_start = i.month_start
GROUP BY s.market_id;
GO

SET SHOWPLAN_XML OFF;
GO
