-- PromptAds (schema ads), migration 0004: the negative-sentiment report.
-- PostgreSQL twin of sql/ads/mssql/0004_negative_sentiment_report.sql.
--
-- The business asked: for a brand and a date range, which ads caused negative sentiment on social
-- networks while the influencers' reaction to them dropped against the previous period of the same
-- length, on which channel (and through which influencers), why people objected, and by how much
-- the reaction fell. The logic lives here, once, so the ads API, the MCP servers and the portal
-- give the same answer; the SQL Server twin is an inline table-valued function with the same
-- columns and rules.
--
-- Rules (the grain is one ad on one channel, the grain of ads.sentiment_samples):
-- * Current period: p_from .. p_to, both days included. Previous period: the n days before p_from,
--   n = p_to - p_from + 1.
-- * Social networks: channels of kind social, professional (LinkedIn) and influencer.
-- * Live rows only: tombstoned samples, ads and campaigns are left out. p_organization_id limits the
--   report to one tenant (NULL: staff, every tenant); a brand of another tenant yields no rows.
-- * Caused negative sentiment: more negative than positive mentions over the current period (net
--   polarity below zero).
-- * Influencer reaction dropped: the mean daily influencer reactions of the current period are
--   below those of the previous period, which must have been above zero (there is no drop from
--   nothing, and an ad not running then has nothing to compare with).
-- * negative_type: the type with the most negative mentions in the current period (ties: by name).
-- * reaction_drop_pct: 100 * (previous - current) / previous, 2 decimals.
-- The caller orders the rows (largest drop first); a SQL Server inline function cannot.

CREATE FUNCTION ads.pradsfn_negative_sentiment_report(
    p_brand_id        uuid,
    p_organization_id uuid,  -- the caller's organization; NULL (staff): any
    p_from            date,
    p_to              date
) RETURNS TABLE (
    ad_id              uuid,
    campaign_id        uuid,
    channel_id         uuid,
    influencer_ids     uuid[],   -- SQL Server: comma-separated VARCHAR(MAX), sorted
    negative_type      text,
    positive_mentions  bigint,
    neutral_mentions   bigint,
    negative_mentions  bigint,
    polarity           numeric,  -- SQL Server: DECIMAL(9,4)
    reactions_previous numeric,  -- SQL Server: DECIMAL(18,2)
    reactions_current  numeric,  -- SQL Server: DECIMAL(18,2)
    reaction_drop_pct  numeric   -- SQL Server: DECIMAL(9,2)
)
LANGUAGE sql
STABLE
AS $$
    WITH s AS (
        SELECT s.campaign_id, s.ad_id, s.channel_id, s.positive_count, s.neutral_count, s.negative_count,
               s.negative_type, s.influencer_reactions, s.day >= p_from AS is_current
        FROM ads.sentiment_samples s
        JOIN ads.campaigns c ON c.id = s.campaign_id AND c.deleted_at IS NULL
        JOIN ads.ads a ON a.id = s.ad_id AND a.deleted_at IS NULL
        JOIN ads.channels ch ON ch.id = s.channel_id AND ch.kind IN ('social', 'professional', 'influencer')
        WHERE s.deleted_at IS NULL
          AND c.brand_id = p_brand_id
          AND (p_organization_id IS NULL OR c.organization_id = p_organization_id)
          AND s.day >= p_from - (p_to - p_from + 1) AND s.day <= p_to
    ), per_run AS (
        SELECT campaign_id, ad_id, channel_id,
               sum(positive_count) FILTER (WHERE is_current)::bigint AS pos,
               sum(neutral_count) FILTER (WHERE is_current)::bigint AS neu,
               sum(negative_count) FILTER (WHERE is_current)::bigint AS neg,
               avg(influencer_reactions) FILTER (WHERE NOT is_current) AS reactions_previous,
               avg(influencer_reactions) FILTER (WHERE is_current) AS reactions_current
        FROM s
        GROUP BY campaign_id, ad_id, channel_id
    ), dominant AS (
        SELECT DISTINCT ON (ad_id, channel_id) ad_id, channel_id, negative_type
        FROM s
        WHERE is_current AND negative_type IS NOT NULL
        GROUP BY ad_id, channel_id, negative_type
        ORDER BY ad_id, channel_id, sum(negative_count) DESC, negative_type
    )
    SELECT p.ad_id, p.campaign_id, p.channel_id,
           ARRAY(SELECT pl.influencer_id FROM ads.ad_placements pl
                 WHERE pl.ad_id = p.ad_id AND pl.channel_id = p.channel_id
                   AND pl.influencer_id IS NOT NULL AND pl.deleted_at IS NULL
                 ORDER BY pl.influencer_id),
           d.negative_type,
           p.pos, p.neu, p.neg,
           round((p.pos - p.neg)::numeric / (p.pos + p.neu + p.neg), 4),
           round(p.reactions_previous, 2),
           round(p.reactions_current, 2),
           round(100 * (p.reactions_previous - p.reactions_current) / p.reactions_previous, 2)
    FROM per_run p
    LEFT JOIN dominant d ON d.ad_id = p.ad_id AND d.channel_id = p.channel_id
    WHERE p.neg > p.pos
      AND p.reactions_previous > 0
      AND p.reactions_current < p.reactions_previous
$$;

COMMENT ON FUNCTION ads.pradsfn_negative_sentiment_report(uuid, uuid, date, date) IS
    'Ads (per channel) of a brand with net negative sentiment on social networks in [from, to] whose mean '
    'influencer reactions dropped against the previous period of equal length; see migration 0004.';
