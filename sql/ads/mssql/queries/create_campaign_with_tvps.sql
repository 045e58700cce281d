-- Table-valued parameters: create a campaign with its channels, markets and ads in one call.
-- SQL Server 2022. PostgreSQL twin: the arrays-of-composites call in
-- subgraphs/ads/tests/sql_create_campaign.rs (CREATE), measured against row by row there.
--
-- Question: how does a client hand ads.PRADSSP_CreateCampaign a whole campaign, and what comes
-- back when it is valid, replayed, or invalid?
-- Data: any brand of the seeded ads store (the first one by id).
-- What to look at:
-- * One round trip: the three lists travel as typed table-valued parameters (ADO.NET
--   SqlDbType.Structured, ODBC table-valued parameters, or, from a client that cannot bind them,
--   such as tiberius, a parameterised batch that declares the variables as here). The procedure
--   inserts each list with one INSERT ... SELECT: N ads are one statement, one log flush at
--   commit and locks held for milliseconds, where row by row costs N statements and N round trips
--   inside the transaction.
-- * The types enforce shape before the procedure runs: NOT NULL, one row per key, the share range.
-- * The first EXEC returns (campaign_id, replayed = 0); the second, same request and key, returns
--   the same campaign with replayed = 1 and writes nothing; the third (a budget of 0) fails with
--   error 51000 'budget|positive|...' and writes nothing (the CATCH prints it).
-- This script WRITES a draft campaign: run it on a copy.
-- Run: sqlcmd -d PromptAds -i sql/ads/mssql/queries/create_campaign_with_tvps.sql

SET NOCOUNT ON;

DECLARE @brand UNIQUEIDENTIFIER = (
    SELECT TOP (1) b.id FROM ads.brands AS b
    WHERE b.deleted_at IS NULL
    ORDER BY b.id
);
DECLARE @campaign UNIQUEIDENTIFIER = NEWID();
DECLARE @key NVARCHAR(200) = CONCAT(N'tvp-demo-', CONVERT(NVARCHAR(36), @campaign));
DECLARE @starts DATETIMEOFFSET(3) = DATEADD(DAY, 7, SYSDATETIMEOFFSET());
DECLARE @ends DATETIMEOFFSET(3) = DATEADD(DAY, 37, SYSDATETIMEOFFSET());

DECLARE @channels ads.CampaignChannelList;
DECLARE @markets ads.CampaignMarketList;
DECLARE @ads ads.CampaignAdList;

INSERT INTO @channels (channel_code, budget_share)
VALUES ('instagram', 0.6000), ('facebook', 0.4000);
INSERT INTO @markets (market_code)
VALUES ('MX'), ('US');
-- 100 ads in one set-based INSERT (the list a designer's tool would hand over).
INSERT INTO @ads (ad_id, name, format, headline, call_to_action)
SELECT
    NEWID(),
    CONCAT(N'Creative ', n.value),
    'image',
    CONCAT(N'Spring sale ', n.value),
    N'Shop now'
FROM GENERATE_SERIES(1, 100) AS n;

-- 1. Created.
EXEC ads.PRADSSP_CreateCampaign
    @CampaignId = @campaign, @OrganizationId = NULL, @BrandId = @brand, @ProductId = NULL,
    @Name = N'TVP demo', @Description = NULL, @Objective = N'sales', @Budget = 25000.00,
    @Currency = N'USD', @StartsAt = @starts, @EndsAt = @ends, @IdempotencyKey = @key,
    @CreatedBy = NULL, @Channels = @channels, @Markets = @markets, @Ads = @ads;

-- 2. The same request again (a client retry after a timeout): the same campaign, replayed = 1.
--    The ads get new ids, as a retry would; they are compared without them.
UPDATE @ads SET ad_id = NEWID();
DECLARE @retry UNIQUEIDENTIFIER = NEWID();
EXEC ads.PRADSSP_CreateCampaign
    @CampaignId = @retry, @OrganizationId = NULL, @BrandId = @brand, @ProductId = NULL,
    @Name = N'TVP demo', @Description = NULL, @Objective = N'sales', @Budget = 25000.00,
    @Currency = N'USD', @StartsAt = @starts, @EndsAt = @ends, @IdempotencyKey = @key,
    @CreatedBy = NULL, @Channels = @channels, @Markets = @markets, @Ads = @ads;

-- 3. Invalid: refused with field|rule|text, nothing written.
DECLARE @bad UNIQUEIDENTIFIER = NEWID();
BEGIN TRY
    EXEC ads.PRADSSP_CreateCampaign
        @CampaignId = @bad, @OrganizationId = NULL, @BrandId = @brand, @ProductId = NULL,
        @Name = N'TVP demo, no budget', @Description = NULL, @Objective = N'sales', @Budget = 0,
        @Currency = N'USD', @StartsAt = @starts, @EndsAt = @ends, @IdempotencyKey = NULL,
        @CreatedBy = NULL, @Channels = @channels, @Markets = @markets, @Ads = @ads;
END TRY
BEGIN CATCH
    SELECT
        ERROR_NUMBER() AS error_number,
        ERROR_MESSAGE() AS error_message,
        (SELECT COUNT_BIG(*) FROM ads.campaigns WHERE id = @bad) AS campaigns_written;
END CATCH;

SELECT
    c.id,
    c.status,
    (SELECT COUNT_BIG(*) FROM ads.ads AS a WHERE a.campaign_id = c.id) AS ads,
    (SELECT COUNT_BIG(*) FROM ads.campaign_channels AS cc WHERE cc.campaign_id = c.id) AS channels,
    (SELECT COUNT_BIG(*) FROM ads.campaign_markets AS cm WHERE cm.campaign_id = c.id) AS markets
FROM ads.campaigns AS c
WHERE c.id = @campaign;
