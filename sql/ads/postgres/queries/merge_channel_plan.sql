-- MERGE (upsert of a staging set): the planner's new channel split for the newest campaigns.
-- PostgreSQL twin of sql/ads/mssql/queries/merge_channel_plan.sql (MERGE ... OUTPUT $action).
--
-- Question: the planner moves 10% of the budget of the three most recently started active
-- campaigns to X. Its output is a staging set of (campaign, channel, budget share): every current
-- link at 90% of its share, and X at 0.1. Apply it: links that exist are updated, X is inserted
-- where the campaign was not on it (or restored, if its link was tombstoned), and report what
-- happened to each row.
-- Data: the seeded active campaigns and their channel links. This script WRITES: run it on a copy.
-- What to look at: one row per staged link with the action (INSERT, or UPDATE when the link
-- existed, tombstoned ones included: they are restored), the share before (NULL when the link was
-- new or tombstoned) and after. Shares still add up to at most 1 (0.9 × sum + 0.1).
--
-- Why not MERGE here: PostgreSQL 15 has MERGE, but MERGE ... RETURNING only arrived in 17, and
-- under concurrent inserts MERGE can fail with a unique violation where INSERT ... ON CONFLICT
-- cannot (it takes the row lock or the insert atomically). The upsert below is the idiomatic
-- twin. The action comes from the pre-statement snapshot: the outer query of a data-modifying
-- CTE sees the table as it was before the CTE wrote, which is what OUTPUT deleted.* gives T-SQL.
-- Run: psql "$ADS_URL" -f sql/ads/postgres/queries/merge_channel_plan.sql

WITH picked AS (
    SELECT c.id
    FROM ads.campaigns c
    WHERE c.deleted_at IS NULL AND c.status = 'active'
    ORDER BY c.starts_at DESC, c.id
    LIMIT 3
), staging (campaign_id, channel_id, budget_share) AS (
    SELECT cc.campaign_id, cc.channel_id, round(cc.budget_share * 0.9, 4)
    FROM ads.campaign_channels cc
    JOIN picked p ON p.id = cc.campaign_id
    WHERE cc.deleted_at IS NULL
    UNION ALL
    SELECT p.id, x.id, 0.1
    FROM picked p
    CROSS JOIN ads.channels x
    WHERE x.code = 'x'
      AND NOT EXISTS (SELECT 1 FROM ads.campaign_channels cc
                      WHERE cc.campaign_id = p.id AND cc.channel_id = x.id AND cc.deleted_at IS NULL)
), upserted AS (
    INSERT INTO ads.campaign_channels AS t (campaign_id, channel_id, budget_share)
    SELECT s.campaign_id, s.channel_id, s.budget_share FROM staging s
    ON CONFLICT (campaign_id, channel_id) DO UPDATE
        SET budget_share = EXCLUDED.budget_share, deleted_at = NULL
    RETURNING t.campaign_id, t.channel_id, t.budget_share
)
SELECT CASE WHEN before.campaign_id IS NULL THEN 'INSERT' ELSE 'UPDATE' END AS action,
       u.campaign_id,
       ch.code AS channel,
       CASE WHEN before.deleted_at IS NULL THEN before.budget_share END AS share_before,
       u.budget_share AS share_after
FROM upserted u
JOIN ads.channels ch ON ch.id = u.channel_id
LEFT JOIN ads.campaign_channels before
       ON before.campaign_id = u.campaign_id AND before.channel_id = u.channel_id
ORDER BY u.campaign_id, ch.code;
