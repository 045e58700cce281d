-- MERGE (upsert of a staging set, OUTPUT $action): the planner's new channel split.
-- SQL Server 2022. PostgreSQL twin: sql/ads/postgres/queries/merge_channel_plan.sql.
--
-- Question: the planner moves 10% of the budget of the three most recently started active
-- campaigns to X. Its output is a staging set of (campaign, channel, budget share): every current
-- link at 90% of its share, and X at 0.1. Apply it: links that exist are updated (a tombstoned one
-- is restored), X is inserted where the campaign was not on it, and report what happened.
-- Data: the seeded active campaigns and their channel links. This script WRITES: run it on a copy.
-- What to look at: one row per staged link with $action (INSERT or UPDATE), the share before
-- (deleted.*, NULL when new or tombstoned) and after (inserted.*).
--
-- MERGE done carefully:
-- * HOLDLOCK on the target: without it two concurrent MERGEs can both decide "not matched" and
--   one fails on the primary key (MERGE is not atomic against itself under READ COMMITTED).
-- * The source is a table variable with its own primary key: MERGE fails when two source rows
--   match one target row, and the key rules that out before the statement runs.
-- * No WHEN NOT MATCHED BY SOURCE: links of other campaigns (or this campaign's links the
--   planner did not stage) must not be touched; deletion is a tombstone anyway.
-- * The statement ends with a semicolon, which MERGE requires.
-- In production the staging rows arrive as a table-valued parameter of the same shape.
-- Run: sqlcmd -d PromptAds -i sql/ads/mssql/queries/merge_channel_plan.sql

SET NOCOUNT ON;
SET XACT_ABORT ON;

DECLARE @staging TABLE (
    campaign_id UNIQUEIDENTIFIER NOT NULL,
    channel_id UNIQUEIDENTIFIER NOT NULL,
    budget_share DECIMAL(5, 4) NOT NULL,
    PRIMARY KEY (campaign_id, channel_id)
);

WITH picked AS (
    SELECT TOP (3) c.id
    FROM ads.campaigns AS c
    WHERE c.deleted_at IS NULL AND c.status = 'active'
    ORDER BY c.starts_at DESC, c.id
)

INSERT INTO @staging (campaign_id, channel_id, budget_share)
SELECT
    cc.campaign_id,
    cc.channel_id,
    CAST(ROUND(cc.budget_share * 0.9, 4) AS DECIMAL(5, 4))
FROM ads.campaign_channels AS cc
INNER JOIN picked AS p ON cc.campaign_id = p.id
WHERE cc.deleted_at IS NULL
UNION ALL
SELECT
    p.id,
    x.id,
    0.1
FROM picked AS p
CROSS JOIN ads.channels AS x
WHERE
    x.code = 'x'
    AND NOT EXISTS (
        SELECT 1 FROM ads.campaign_channels AS cc
        WHERE cc.campaign_id = p.id AND cc.channel_id = x.id AND cc.deleted_at IS NULL
    );

BEGIN TRANSACTION;

MERGE ads.campaign_channels WITH (HOLDLOCK) AS t
USING @staging AS s
    ON t.campaign_id = s.campaign_id AND t.channel_id = s.channel_id
WHEN MATCHED THEN
    UPDATE SET
        t.budget_share = s.budget_share,
        t.deleted_at = NULL
WHEN NOT MATCHED BY TARGET THEN
    INSERT (campaign_id, channel_id, budget_share)
    VALUES (s.campaign_id, s.channel_id, s.budget_share)
OUTPUT
    $action AS action,
    inserted.campaign_id,
    inserted.channel_id,
    CASE WHEN deleted.deleted_at IS NULL THEN deleted.budget_share END AS share_before,
    inserted.budget_share AS share_after;

COMMIT TRANSACTION;
