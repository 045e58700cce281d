-- PromptAds (schema ads), migration 0004: the negative-sentiment report.
-- SQL Server 2022. PostgreSQL twin: sql/ads/postgres/0004_negative_sentiment_report.sql.
--
-- The business asked: for a brand and a date range, which ads caused negative sentiment on social
-- networks while the influencers' reaction to them dropped against the previous period of the same
-- length, on which channel (and through which influencers), why people objected, and by how much
-- the reaction fell. The logic lives here, once, so the ads API, the MCP servers and the portal
-- give the same answer.
--
-- An inline table-valued function, not a procedure: the optimiser expands it into the caller's
-- query (no plan of its own, no row-by-row), it composes (TOP, ORDER BY, joins to names) and it
-- needs no temporary tables. Use it as
--   SELECT r.* FROM ads.PRADSFN_NegativeSentimentReport(@BrandId, @OrganizationId, @From, @To) AS r
--   ORDER BY r.reaction_drop_pct DESC;
--
-- Rules (the grain is one ad on one channel, the grain of ads.sentiment_samples):
-- * Current period: @From .. @To, both days included. Previous period: the n days before @From,
--   n = DATEDIFF(DAY, @From, @To) + 1.
-- * Social networks: channels of kind social, professional (LinkedIn) and influencer.
-- * Live rows only. @OrganizationId limits the report to one tenant (NULL: staff, every tenant);
--   a brand of another tenant yields no rows.
-- * Caused negative sentiment: more negative than positive mentions over the current period.
-- * Influencer reaction dropped: the mean daily influencer reactions of the current period are
--   below those of the previous period, which must have been above zero.
-- * negative_type: the type with the most negative mentions in the current period (ties: by name).
-- * reaction_drop_pct: 100 * (previous - current) / previous, 2 decimals.
-- Counts are summed as BIGINT and means taken over DECIMAL: SUM and AVG of INT stay INT in T-SQL.
-- The seek is ads.sentiment_samples (campaign_id, day) INCLUDE (...) through the brand's campaigns.

CREATE FUNCTION ads.PRADSFN_NegativeSentimentReport (
    @BrandId UNIQUEIDENTIFIER,
    @OrganizationId UNIQUEIDENTIFIER,  -- the caller's organization; NULL (staff): any
    @From DATE,
    @To DATE
)
RETURNS TABLE
AS
RETURN
WITH s AS (
    SELECT
        s.campaign_id,
        s.ad_id,
        s.channel_id,
        s.negative_type,
        CAST(s.positive_count AS BIGINT) AS positive_count,
        CAST(s.neutral_count AS BIGINT) AS neutral_count,
        CAST(s.negative_count AS BIGINT) AS negative_count,
        CAST(s.influencer_reactions AS DECIMAL(18, 6)) AS influencer_reactions,
        CASE WHEN s.day >= @From THEN 1 ELSE 0 END AS is_current
    FROM ads.sentiment_samples AS s
    INNER JOIN ads.campaigns AS c ON s.campaign_id = c.id AND c.deleted_at IS NULL
    INNER JOIN ads.ads AS a ON s.ad_id = a.id AND a.deleted_at IS NULL
    INNER JOIN ads.channels AS ch
        ON s.channel_id = ch.id
        AND ch.kind COLLATE Latin1_General_100_BIN2 IN ('social', 'professional', 'influencer')
    WHERE
        s.deleted_at IS NULL
        AND c.brand_id = @BrandId
        AND (@OrganizationId IS NULL OR c.organization_id = @OrganizationId)
        AND s.day >= DATEADD(DAY, -(DATEDIFF(DAY, @From, @To) + 1), @From)
        AND s.day <= @To
),

per_run AS (
    SELECT
        campaign_id,
        ad_id,
        channel_id,
        SUM(CASE WHEN is_current = 1 THEN positive_count END) AS pos,
        SUM(CASE WHEN is_current = 1 THEN neutral_count END) AS neu,
        SUM(CASE WHEN is_current = 1 THEN negative_count END) AS neg,
        AVG(CASE WHEN is_current = 0 THEN influencer_reactions END) AS reactions_previous,
        AVG(CASE WHEN is_current = 1 THEN influencer_reactions END) AS reactions_current
    FROM s
    GROUP BY campaign_id, ad_id, channel_id
),

dominant AS (
    SELECT
        ad_id,
        channel_id,
        negative_type,
        ROW_NUMBER() OVER (
            PARTITION BY ad_id, channel_id
            ORDER BY SUM(negative_count) DESC, negative_type
        ) AS rn
    FROM s
    WHERE is_current = 1 AND negative_type IS NOT NULL
    GROUP BY ad_id, channel_id, negative_type
)

SELECT
    p.ad_id,
    p.campaign_id,
    p.channel_id,
    (
        SELECT STRING_AGG(CAST(pl.influencer_id AS VARCHAR(36)), ',')
            WITHIN GROUP (ORDER BY CAST(pl.influencer_id AS VARCHAR(36)))
        FROM ads.ad_placements AS pl
        WHERE
            pl.ad_id = p.ad_id
            AND pl.channel_id = p.channel_id
            AND pl.influencer_id IS NOT NULL
            AND pl.deleted_at IS NULL
    ) AS influencer_ids,
    d.negative_type,
    p.pos AS positive_mentions,
    p.neu AS neutral_mentions,
    p.neg AS negative_mentions,
    CAST(ROUND(CAST(p.pos - p.neg AS DECIMAL(38, 12)) / (p.pos + p.neu + p.neg), 4) AS DECIMAL(9, 4))
        AS polarity,
    CAST(ROUND(p.reactions_previous, 2) AS DECIMAL(18, 2)) AS reactions_previous,
    CAST(ROUND(p.reactions_current, 2) AS DECIMAL(18, 2)) AS reactions_current,
    CAST(ROUND(100 * (p.reactions_previous - p.reactions_current) / p.reactions_previous, 2) AS DECIMAL(9, 2))
        AS reaction_drop_pct
FROM per_run AS p
LEFT JOIN dominant AS d ON p.ad_id = d.ad_id AND p.channel_id = d.channel_id AND d.rn = 1
WHERE
    p.neg > p.pos
    AND p.reactions_previous > 0
    AND p.reactions_current < p.reactions_previous;
GO
