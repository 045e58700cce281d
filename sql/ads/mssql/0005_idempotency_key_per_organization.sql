-- PromptAds (schema ads), migration 0005: idempotency keys belong to one organization.
-- SQL Server 2022. PostgreSQL twin: sql/ads/postgres/0005_idempotency_key_per_organization.sql.
--
-- Until now a key was unique across the whole store, so one tenant could take a key another
-- tenant was about to use (its request then failed as "reused"), and the conflict itself told
-- the caller that some other organization had used that key. The key now names a request within
-- the campaign's organization: the filtered unique index is (organization_id, idempotency_key),
-- and ads.PRADSSP_CreateCampaign looks the key up, and range-locks it, within the organization
-- it is creating the campaign for. Everything else in the procedure is as 0002 wrote it.
--
-- Existing rows satisfy the new index: keys that were unique store-wide are unique per
-- organization. The new index is built before the old one is dropped, so keys stay guarded.

CREATE UNIQUE NONCLUSTERED INDEX campaigns_organization_idempotency_key_key
ON ads.campaigns (organization_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

DROP INDEX campaigns_idempotency_key_key ON ads.campaigns;
GO

CREATE OR ALTER PROCEDURE ads.PRADSSP_CreateCampaign
    @CampaignId UNIQUEIDENTIFIER,
    -- The caller's organization; NULL (staff): the brand's organization.
    @OrganizationId UNIQUEIDENTIFIER,
    @BrandId UNIQUEIDENTIFIER,
    @ProductId UNIQUEIDENTIFIER,
    @Name NVARCHAR(4000),
    @Description NVARCHAR(MAX),
    @Objective NVARCHAR(100),
    @Budget DECIMAL(38, 10),
    @Currency NVARCHAR(10),
    @StartsAt DATETIMEOFFSET(3),
    @EndsAt DATETIMEOFFSET(3),
    @IdempotencyKey NVARCHAR(4000),
    @CreatedBy UNIQUEIDENTIFIER,
    @Channels ads.CampaignChannelList READONLY,
    @Markets ads.CampaignMarketList READONLY,
    @Ads ads.CampaignAdList READONLY
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;

    DECLARE @msg NVARCHAR(2048);
    DECLARE @key VARCHAR(200);
    DECLARE @org UNIQUEIDENTIFIER;
    DECLARE @key_org UNIQUEIDENTIFIER;
    DECLARE @existing UNIQUEIDENTIFIER;
    DECLARE @existing_deleted DATETIMEOFFSET(3);
    DECLARE @bad NVARCHAR(200);
    DECLARE @share_sum DECIMAL(38, 4);

    BEGIN TRY
        BEGIN TRANSACTION;

        -- 1. Idempotency. A key names one request of one organization: the same request again
        --    gets the campaign it made, a different one is refused. The organization is the
        --    caller's, or for staff the brand's, so one tenant's keys never touch another's;
        --    without a known organization (staff naming an unknown brand) there is nothing to
        --    replay, and step 3 refuses the brand. A deleted campaign is not resurrected.
        --    UPDLOCK + HOLDLOCK lock the (organization, key) range of the unique index until
        --    commit, so a concurrent retry waits and then finds this call's row. Keys compare
        --    under the database collation, like the unique index, so the two never disagree.
        IF @IdempotencyKey IS NOT NULL
        BEGIN
            IF
                LEN(@IdempotencyKey) NOT BETWEEN 1 AND 200
                OR @IdempotencyKey COLLATE Latin1_General_100_BIN2 LIKE N'%[^!-~]%'
            BEGIN
                SET @msg = N'idempotencyKey|format|an idempotency key is 1 to 200 printable ASCII characters without spaces';
                THROW 51000, @msg, 1;
            END;
            SET @key = CAST(@IdempotencyKey AS VARCHAR(200));
            SET @key_org = COALESCE(
                @OrganizationId,
                (SELECT b.organization_id FROM ads.brands AS b WHERE b.id = @BrandId)
            );
        END;
        IF @key_org IS NOT NULL
        BEGIN
            SELECT
                @existing = c.id,
                @existing_deleted = c.deleted_at
            FROM ads.campaigns AS c WITH (UPDLOCK, HOLDLOCK)
            WHERE c.organization_id = @key_org AND c.idempotency_key = @key;
            IF @existing IS NOT NULL
            BEGIN
                IF
                    @existing_deleted IS NULL
                    AND EXISTS (
                        SELECT
                            c.brand_id,
                            c.product_id,
                            c.name COLLATE Latin1_General_100_BIN2,
                            c.description COLLATE Latin1_General_100_BIN2,
                            c.objective,
                            c.budget,
                            c.currency,
                            c.starts_at,
                            c.ends_at
                        FROM ads.campaigns AS c
                        WHERE c.id = @existing
                        INTERSECT
                        SELECT
                            @BrandId,
                            @ProductId,
                            @Name,
                            @Description,
                            @Objective,
                            @Budget,
                            @Currency,
                            @StartsAt,
                            @EndsAt
                    )
                    AND NOT EXISTS (
                        SELECT
                            ch.code,
                            cc.budget_share
                        FROM ads.campaign_channels AS cc
                        INNER JOIN ads.channels AS ch ON cc.channel_id = ch.id
                        WHERE cc.campaign_id = @existing AND cc.deleted_at IS NULL
                        EXCEPT
                        SELECT
                            x.channel_code,
                            x.budget_share
                        FROM @Channels AS x
                    )
                    AND NOT EXISTS (
                        SELECT
                            x.channel_code,
                            x.budget_share
                        FROM @Channels AS x
                        EXCEPT
                        SELECT
                            ch.code,
                            cc.budget_share
                        FROM ads.campaign_channels AS cc
                        INNER JOIN ads.channels AS ch ON cc.channel_id = ch.id
                        WHERE cc.campaign_id = @existing AND cc.deleted_at IS NULL
                    )
                    AND NOT EXISTS (
                        SELECT m.code
                        FROM ads.campaign_markets AS cm
                        INNER JOIN ads.markets AS m ON cm.market_id = m.id
                        WHERE cm.campaign_id = @existing AND cm.deleted_at IS NULL
                        EXCEPT
                        SELECT x.market_code FROM @Markets AS x
                    )
                    AND NOT EXISTS (
                        SELECT x.market_code FROM @Markets AS x
                        EXCEPT
                        SELECT m.code
                        FROM ads.campaign_markets AS cm
                        INNER JOIN ads.markets AS m ON cm.market_id = m.id
                        WHERE cm.campaign_id = @existing AND cm.deleted_at IS NULL
                    )
                    -- Ads are compared without their ids: a retry carries new ones.
                    AND NOT EXISTS (
                        SELECT
                            a.name,
                            a.format,
                            a.headline,
                            a.body,
                            a.call_to_action,
                            a.landing_url,
                            a.content_image_id
                        FROM ads.ads AS a
                        WHERE a.campaign_id = @existing AND a.deleted_at IS NULL
                        EXCEPT
                        SELECT
                            x.name,
                            x.format,
                            x.headline,
                            x.body,
                            x.call_to_action,
                            x.landing_url,
                            x.content_image_id
                        FROM @Ads AS x
                    )
                    AND NOT EXISTS (
                        SELECT
                            x.name,
                            x.format,
                            x.headline,
                            x.body,
                            x.call_to_action,
                            x.landing_url,
                            x.content_image_id
                        FROM @Ads AS x
                        EXCEPT
                        SELECT
                            a.name,
                            a.format,
                            a.headline,
                            a.body,
                            a.call_to_action,
                            a.landing_url,
                            a.content_image_id
                        FROM ads.ads AS a
                        WHERE a.campaign_id = @existing AND a.deleted_at IS NULL
                    )
                BEGIN
                    COMMIT TRANSACTION;
                    SELECT
                        @existing AS campaign_id,
                        CAST(1 AS BIT) AS replayed;
                    RETURN;
                END;
                SET @msg = N'this idempotency key was already used for a different request';
                THROW 51100, @msg, 1;
            END;
        END;

        -- 2. The campaign's own fields. DATALENGTH counts what NVARCHAR(n) can hold (2 bytes a
        --    UTF-16 unit); LEN would ignore trailing spaces.
        IF @Name IS NULL OR LEN(@Name) = 0
        BEGIN
            SET @msg = N'name|required|a campaign needs a name';
            THROW 51000, @msg, 1;
        END;
        IF DATALENGTH(@Name) > 400
        BEGIN
            SET @msg = N'name|max_length|a campaign name has at most 200 characters';
            THROW 51000, @msg, 1;
        END;
        IF DATALENGTH(@Description) > 8000
        BEGIN
            SET @msg = N'description|max_length|a description has at most 4000 characters';
            THROW 51000, @msg, 1;
        END;
        IF
            @Objective IS NULL
            OR @Objective COLLATE Latin1_General_100_BIN2
            NOT IN (N'awareness', N'traffic', N'engagement', N'leads', N'sales')
        BEGIN
            SET @msg = CONCAT(N'objective|enum|unknown objective ', @Objective);
            THROW 51000, @msg, 1;
        END;
        IF @Budget IS NULL OR @Budget <= 0
        BEGIN
            SET @msg = N'budget|positive|the budget must be greater than zero';
            THROW 51000, @msg, 1;
        END;
        IF @Budget >= 1000000000000
        BEGIN
            SET @msg = N'budget|max|the budget must be below 1,000,000,000,000';
            THROW 51000, @msg, 1;
        END;
        IF @Budget <> ROUND(@Budget, 2)
        BEGIN
            SET @msg = N'budget|scale|the budget has at most 2 decimals';
            THROW 51000, @msg, 1;
        END;
        IF @Currency IS NULL OR @Currency COLLATE Latin1_General_100_BIN2 NOT LIKE N'[A-Z][A-Z][A-Z]'
        BEGIN
            SET @msg = N'currency|format|a currency is an ISO 4217 code such as USD';
            THROW 51000, @msg, 1;
        END;
        IF @StartsAt IS NULL
        BEGIN
            SET @msg = N'startsAt|required|a campaign needs a start';
            THROW 51000, @msg, 1;
        END;
        IF @EndsAt IS NULL OR @EndsAt <= @StartsAt
        BEGIN
            SET @msg = N'endsAt|after_start|a campaign must end after it starts';
            THROW 51000, @msg, 1;
        END;

        -- 3. Brand and product: the brand must belong to the caller's organization (staff: any),
        --    and the product to the brand.
        SELECT @org = b.organization_id
        FROM ads.brands AS b
        WHERE
            b.id = @BrandId
            AND b.deleted_at IS NULL
            AND (@OrganizationId IS NULL OR b.organization_id = @OrganizationId);
        IF @org IS NULL
        BEGIN
            SET @msg = N'brandId|not_found|no such brand in this organization';
            THROW 51000, @msg, 1;
        END;
        IF
            @ProductId IS NOT NULL
            AND NOT EXISTS (
                SELECT 1 FROM ads.products AS p
                WHERE p.id = @ProductId AND p.brand_id = @BrandId AND p.deleted_at IS NULL
            )
        BEGIN
            SET @msg = N'productId|not_found|no such product of this brand';
            THROW 51000, @msg, 1;
        END;

        -- 4. Channels: at least one, known and live, shares summing to at most 1 (the table type
        --    already keeps codes unique and each share in (0, 1]).
        IF NOT EXISTS (SELECT 1 FROM @Channels)
        BEGIN
            SET @msg = N'channels|min_items|a campaign runs on at least one channel';
            THROW 51000, @msg, 1;
        END;
        SET @bad = NULL;
        SELECT TOP (1) @bad = x.channel_code
        FROM @Channels AS x
        WHERE NOT EXISTS (
            SELECT 1 FROM ads.channels AS ch
            WHERE ch.code = x.channel_code AND ch.deleted_at IS NULL
        )
        ORDER BY x.channel_code;
        IF @bad IS NOT NULL
        BEGIN
            SET @msg = CONCAT(N'channels|unknown_code|unknown channel code ', @bad);
            THROW 51000, @msg, 1;
        END;
        SELECT @share_sum = SUM(x.budget_share) FROM @Channels AS x;
        IF @share_sum > 1
        BEGIN
            SET @msg = CONCAT(
                N'channels|budget_share_sum|the budget shares add up to ',
                CAST(@share_sum AS NVARCHAR(40)),
                N', more than 1'
            );
            THROW 51000, @msg, 1;
        END;

        -- 5. Markets: known and live (none is allowed: a campaign may have no market target).
        SET @bad = NULL;
        SELECT TOP (1) @bad = x.market_code
        FROM @Markets AS x
        WHERE NOT EXISTS (
            SELECT 1 FROM ads.markets AS m
            WHERE m.code = x.market_code AND m.deleted_at IS NULL
        )
        ORDER BY x.market_code;
        IF @bad IS NOT NULL
        BEGIN
            SET @msg = CONCAT(N'markets|unknown_code|unknown market code ', @bad);
            THROW 51000, @msg, 1;
        END;

        -- 6. Ads.
        IF EXISTS (SELECT 1 FROM @Ads AS x INNER JOIN ads.ads AS a ON x.ad_id = a.id)
        BEGIN
            SET @msg = N'ads|duplicate_id|each ad needs an id of its own';
            THROW 51000, @msg, 1;
        END;
        IF EXISTS (SELECT 1 FROM @Ads AS x WHERE LEN(x.name) = 0)
        BEGIN
            SET @msg = N'ads.name|required|each ad needs a name';
            THROW 51000, @msg, 1;
        END;
        SET @bad = NULL;
        SELECT TOP (1) @bad = x.format
        FROM @Ads AS x
        WHERE x.format COLLATE Latin1_General_100_BIN2 NOT IN ('image', 'video', 'carousel', 'story', 'text')
        ORDER BY x.format;
        IF @bad IS NOT NULL
        BEGIN
            SET @msg = CONCAT(N'ads.format|enum|unknown ad format ', @bad);
            THROW 51000, @msg, 1;
        END;
        IF EXISTS (
            SELECT 1 FROM @Ads AS x
            WHERE x.format = 'text' AND (x.headline IS NULL OR x.body IS NULL)
        )
        BEGIN
            SET @msg = N'ads.headline|required_for_text|a text ad needs a headline and a body';
            THROW 51000, @msg, 1;
        END;
        IF EXISTS (
            SELECT 1 FROM @Ads AS x
            WHERE
                x.landing_url IS NOT NULL
                AND NOT (
                    (LOWER(x.landing_url) LIKE N'http://_%' OR LOWER(x.landing_url) LIKE N'https://_%')
                    AND CHARINDEX(N' ', x.landing_url) = 0
                )
        )
        BEGIN
            SET @msg = N'ads.landingUrl|url|a landing URL is an http or https URL without spaces';
            THROW 51000, @msg, 1;
        END;

        -- 7. Write: the campaign (a draft, version 1), then its links and ads.
        INSERT INTO ads.campaigns (
            id, organization_id, brand_id, product_id, name, description, objective, status,
            budget, currency, starts_at, ends_at, version, idempotency_key, created_by
        )
        VALUES (
            @CampaignId, @org, @BrandId, @ProductId, @Name, @Description, @Objective, 'draft',
            @Budget, @Currency, @StartsAt, @EndsAt, 1, @key, @CreatedBy
        );
        INSERT INTO ads.campaign_channels (campaign_id, channel_id, budget_share)
        SELECT
            @CampaignId,
            ch.id,
            x.budget_share
        FROM @Channels AS x
        INNER JOIN ads.channels AS ch ON x.channel_code = ch.code;
        INSERT INTO ads.campaign_markets (campaign_id, market_id)
        SELECT
            @CampaignId,
            m.id
        FROM @Markets AS x
        INNER JOIN ads.markets AS m ON x.market_code = m.code;
        INSERT INTO ads.ads (
            id, campaign_id, name, format, headline, body, call_to_action, landing_url,
            content_image_id, status
        )
        SELECT
            x.ad_id,
            @CampaignId,
            x.name,
            x.format,
            x.headline,
            x.body,
            x.call_to_action,
            x.landing_url,
            x.content_image_id,
            'draft'
        FROM @Ads AS x;

        COMMIT TRANSACTION;
        SELECT
            @CampaignId AS campaign_id,
            CAST(0 AS BIT) AS replayed;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
END;
GO
