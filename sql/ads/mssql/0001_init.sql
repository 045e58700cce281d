-- PromptAds (schema ads), SQL Server 2022. PostgreSQL twin: sql/ads/postgres/0001_init.sql.
--
-- Campaigns, their ads, where the ads run (channels, markets, influencers) and what they achieved
-- (daily results and sentiment). Contract: docs/data-model.md. Same tables, columns, constraint
-- and index names as the twin; the twin's trailing comments give the type mapping.
--
-- Rules that hold for the whole file:
-- * The migration runner wraps the file in one transaction and records the version: no
--   BEGIN TRAN / COMMIT / USE here. CREATE SCHEMA, CREATE TYPE and CREATE TRIGGER start batches.
-- * Ids come from the application (UNIQUEIDENTIFIER, no NEWID() defaults). channels and markets
--   use UUIDv5 of their code, so every store agrees on them without a lookup.
-- * Every table has created_at/updated_at. An AFTER INSERT, UPDATE trigger per table stamps
--   updated_at = SYSUTCDATETIME() and keeps created_at as it was before an UPDATE, so callers
--   cannot back-date a change. The trigger's own UPDATE does not re-enter it: it returns at once
--   when TRIGGER_NESTLEVEL(@@PROCID) > 1 (whatever RECURSIVE_TRIGGERS is set to).
-- * Every table the ETL reads has an (updated_at, <primary key>) index for keyset pagination.
-- * Deleting means setting deleted_at (a tombstone), which moves updated_at, so the ETL sees it.
--   Foreign keys are NO ACTION: a hard delete is a deliberate purge that removes children first
--   (this also avoids SQL Server's multiple-cascade-path restriction).
-- * Enumerations are lowercase, codes uppercase. The CHECKs compare under
--   Latin1_General_100_BIN2 so that they are as case-sensitive as the PostgreSQL twin's, whatever
--   the database collation; columns keep the database collation so joins never conflict.

CREATE SCHEMA ads;
GO

-- =================================================================================================
-- Reference copies of the central store (PromptSales): brands, products
-- =================================================================================================
-- Written only by the sync from PromptSales, with the same ids; they let the ads reports run
-- without a cross-store join. No uniqueness on names: the central store owns that rule, and a
-- copy that enforced it could reject a legitimate rename applied out of order.

CREATE TABLE ads.brands (
    id              UNIQUEIDENTIFIER  NOT NULL,
    organization_id UNIQUEIDENTIFIER  NOT NULL,
    name            NVARCHAR(200)     NOT NULL,
    created_at      DATETIMEOFFSET(3) NOT NULL CONSTRAINT brands_created_at_df DEFAULT SYSUTCDATETIME(),
    updated_at      DATETIMEOFFSET(3) NOT NULL CONSTRAINT brands_updated_at_df DEFAULT SYSUTCDATETIME(),
    deleted_at      DATETIMEOFFSET(3) NULL,
    CONSTRAINT brands_pkey PRIMARY KEY CLUSTERED (id),
    -- Target of the (brand_id, organization_id) foreign keys below: a product or campaign can only
    -- point at a brand of its own organization.
    CONSTRAINT brands_id_organization_id_key UNIQUE NONCLUSTERED (id, organization_id),
    CONSTRAINT brands_name_check CHECK (LEN(name) >= 1)
);

CREATE NONCLUSTERED INDEX brands_organization_id_name_idx ON ads.brands (organization_id, name);
CREATE NONCLUSTERED INDEX brands_updated_at_id_idx ON ads.brands (updated_at, id);
GO

CREATE TRIGGER ads.brands_touch_updated_at
ON ads.brands
AFTER INSERT, UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    IF TRIGGER_NESTLEVEL(@@PROCID) > 1 OR NOT EXISTS (SELECT 1 FROM inserted) RETURN;
    UPDATE t
    SET t.updated_at = SYSUTCDATETIME(),
        t.created_at = COALESCE(d.created_at, t.created_at)
    FROM ads.brands AS t
    INNER JOIN inserted AS i ON i.id = t.id
    LEFT JOIN deleted AS d ON d.id = t.id;
END;
GO

CREATE TABLE ads.products (
    id              UNIQUEIDENTIFIER  NOT NULL,
    brand_id        UNIQUEIDENTIFIER  NOT NULL,
    organization_id UNIQUEIDENTIFIER  NOT NULL,
    name            NVARCHAR(200)     NOT NULL,
    unit_price      DECIMAL(12, 2)    NOT NULL,  -- in products.currency
    currency        CHAR(3)           NOT NULL CONSTRAINT products_currency_df DEFAULT 'USD',
    created_at      DATETIMEOFFSET(3) NOT NULL CONSTRAINT products_created_at_df DEFAULT SYSUTCDATETIME(),
    updated_at      DATETIMEOFFSET(3) NOT NULL CONSTRAINT products_updated_at_df DEFAULT SYSUTCDATETIME(),
    deleted_at      DATETIMEOFFSET(3) NULL,
    CONSTRAINT products_pkey PRIMARY KEY CLUSTERED (id),
    -- Target of campaigns (product_id, brand_id): a campaign's product belongs to its brand.
    CONSTRAINT products_id_brand_id_key UNIQUE NONCLUSTERED (id, brand_id),
    CONSTRAINT products_brand_id_organization_id_fkey
        FOREIGN KEY (brand_id, organization_id) REFERENCES ads.brands (id, organization_id),
    CONSTRAINT products_name_check CHECK (LEN(name) >= 1),
    CONSTRAINT products_unit_price_check CHECK (unit_price >= 0),
    CONSTRAINT products_currency_check
        CHECK (currency COLLATE Latin1_General_100_BIN2 LIKE '[A-Z][A-Z][A-Z]')
);

CREATE NONCLUSTERED INDEX products_brand_id_organization_id_idx
    ON ads.products (brand_id, organization_id);
CREATE NONCLUSTERED INDEX products_organization_id_name_idx ON ads.products (organization_id, name);
CREATE NONCLUSTERED INDEX products_updated_at_id_idx ON ads.products (updated_at, id);
GO

CREATE TRIGGER ads.products_touch_updated_at
ON ads.products
AFTER INSERT, UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    IF TRIGGER_NESTLEVEL(@@PROCID) > 1 OR NOT EXISTS (SELECT 1 FROM inserted) RETURN;
    UPDATE t
    SET t.updated_at = SYSUTCDATETIME(),
        t.created_at = COALESCE(d.created_at, t.created_at)
    FROM ads.products AS t
    INNER JOIN inserted AS i ON i.id = t.id
    LEFT JOIN deleted AS d ON d.id = t.id;
END;
GO

-- =================================================================================================
-- Where ads run: channels, markets, influencers
-- =================================================================================================
-- channels and markets are shared reference data: id = UUIDv5(code) under PROMPTSALES_NS. Because
-- the id is derived from the code, re-creating a deleted code yields the same id, so it is done by
-- clearing deleted_at; that is why code is unique over all rows, not only live ones.

CREATE TABLE ads.channels (
    id                 UNIQUEIDENTIFIER  NOT NULL,
    code               VARCHAR(40)       NOT NULL,
    name               NVARCHAR(100)     NOT NULL,
    kind               VARCHAR(16)       NOT NULL,
    -- Cost model proposed for new placements on this channel.
    default_cost_model VARCHAR(8)        NOT NULL CONSTRAINT channels_default_cost_model_df DEFAULT 'cpm',
    created_at         DATETIMEOFFSET(3) NOT NULL CONSTRAINT channels_created_at_df DEFAULT SYSUTCDATETIME(),
    updated_at         DATETIMEOFFSET(3) NOT NULL CONSTRAINT channels_updated_at_df DEFAULT SYSUTCDATETIME(),
    deleted_at         DATETIMEOFFSET(3) NULL,
    CONSTRAINT channels_pkey PRIMARY KEY CLUSTERED (id),
    CONSTRAINT channels_code_key UNIQUE NONCLUSTERED (code),
    CONSTRAINT channels_code_check
        CHECK (LEN(code) BETWEEN 2 AND 40
               AND code COLLATE Latin1_General_100_BIN2 LIKE '[a-z]%'
               AND code COLLATE Latin1_General_100_BIN2 NOT LIKE '%[^a-z0-9_]%'),
    CONSTRAINT channels_name_check CHECK (LEN(name) >= 1),
    CONSTRAINT channels_kind_check
        CHECK (kind COLLATE Latin1_General_100_BIN2
               IN ('social', 'email', 'sms', 'professional', 'influencer', 'search')),
    CONSTRAINT channels_default_cost_model_check
        CHECK (default_cost_model COLLATE Latin1_General_100_BIN2 IN ('cpm', 'cpc', 'cpa', 'flat'))
);

CREATE NONCLUSTERED INDEX channels_updated_at_id_idx ON ads.channels (updated_at, id);
GO

CREATE TRIGGER ads.channels_touch_updated_at
ON ads.channels
AFTER INSERT, UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    IF TRIGGER_NESTLEVEL(@@PROCID) > 1 OR NOT EXISTS (SELECT 1 FROM inserted) RETURN;
    UPDATE t
    SET t.updated_at = SYSUTCDATETIME(),
        t.created_at = COALESCE(d.created_at, t.created_at)
    FROM ads.channels AS t
    INNER JOIN inserted AS i ON i.id = t.id
    LEFT JOIN deleted AS d ON d.id = t.id;
END;
GO

CREATE TABLE ads.markets (
    id           UNIQUEIDENTIFIER  NOT NULL,
    code         VARCHAR(8)        NOT NULL,
    country_code CHAR(2)           NOT NULL,  -- ISO 3166-1 alpha-2
    region       VARCHAR(16)       NOT NULL,  -- LATAM, NA, EMEA, APAC, ...
    name         NVARCHAR(100)     NOT NULL,
    currency     CHAR(3)           NOT NULL,
    timezone     VARCHAR(64)       NOT NULL,  -- IANA name: where the market's day starts
    created_at   DATETIMEOFFSET(3) NOT NULL CONSTRAINT markets_created_at_df DEFAULT SYSUTCDATETIME(),
    updated_at   DATETIMEOFFSET(3) NOT NULL CONSTRAINT markets_updated_at_df DEFAULT SYSUTCDATETIME(),
    deleted_at   DATETIMEOFFSET(3) NULL,
    CONSTRAINT markets_pkey PRIMARY KEY CLUSTERED (id),
    CONSTRAINT markets_code_key UNIQUE NONCLUSTERED (code),
    CONSTRAINT markets_code_check
        CHECK (LEN(code) BETWEEN 2 AND 8
               AND code COLLATE Latin1_General_100_BIN2 LIKE '[A-Z]%'
               AND code COLLATE Latin1_General_100_BIN2 NOT LIKE '%[^A-Z0-9_-]%'),
    CONSTRAINT markets_country_code_check
        CHECK (country_code COLLATE Latin1_General_100_BIN2 LIKE '[A-Z][A-Z]'),
    CONSTRAINT markets_region_check
        CHECK (LEN(region) BETWEEN 2 AND 16
               AND region COLLATE Latin1_General_100_BIN2 LIKE '[A-Z]%'
               AND region COLLATE Latin1_General_100_BIN2 NOT LIKE '%[^A-Z0-9_]%'),
    CONSTRAINT markets_name_check CHECK (LEN(name) >= 1),
    CONSTRAINT markets_currency_check
        CHECK (currency COLLATE Latin1_General_100_BIN2 LIKE '[A-Z][A-Z][A-Z]'),
    CONSTRAINT markets_timezone_check CHECK (LEN(timezone) >= 1 AND CHARINDEX(' ', timezone) = 0)
);

CREATE NONCLUSTERED INDEX markets_region_idx ON ads.markets (region);
CREATE NONCLUSTERED INDEX markets_updated_at_id_idx ON ads.markets (updated_at, id);
GO

CREATE TRIGGER ads.markets_touch_updated_at
ON ads.markets
AFTER INSERT, UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    IF TRIGGER_NESTLEVEL(@@PROCID) > 1 OR NOT EXISTS (SELECT 1 FROM inserted) RETURN;
    UPDATE t
    SET t.updated_at = SYSUTCDATETIME(),
        t.created_at = COALESCE(d.created_at, t.created_at)
    FROM ads.markets AS t
    INNER JOIN inserted AS i ON i.id = t.id
    LEFT JOIN deleted AS d ON d.id = t.id;
END;
GO

CREATE TABLE ads.influencers (
    id           UNIQUEIDENTIFIER  NOT NULL,
    channel_id   UNIQUEIDENTIFIER  NOT NULL,  -- home channel
    handle       NVARCHAR(100)     NOT NULL,
    display_name NVARCHAR(200)     NOT NULL,
    followers    BIGINT            NOT NULL CONSTRAINT influencers_followers_df DEFAULT 0,
    niche        NVARCHAR(100)     NULL,
    country_code CHAR(2)           NULL,
    created_at   DATETIMEOFFSET(3) NOT NULL CONSTRAINT influencers_created_at_df DEFAULT SYSUTCDATETIME(),
    updated_at   DATETIMEOFFSET(3) NOT NULL CONSTRAINT influencers_updated_at_df DEFAULT SYSUTCDATETIME(),
    deleted_at   DATETIMEOFFSET(3) NULL,
    CONSTRAINT influencers_pkey PRIMARY KEY CLUSTERED (id),
    CONSTRAINT influencers_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES ads.channels (id),
    -- Handles are stored normalised (lowercase, without the leading '@') so that uniqueness is
    -- case-insensitive in both dialects; display_name keeps the presentation form.
    CONSTRAINT influencers_handle_check
        CHECK (LEN(handle) >= 1
               AND handle = LOWER(handle) COLLATE Latin1_General_100_BIN2
               AND LEFT(handle, 1) <> N'@'
               AND CHARINDEX(N' ', handle) = 0),
    CONSTRAINT influencers_display_name_check CHECK (LEN(display_name) >= 1),
    CONSTRAINT influencers_followers_check CHECK (followers >= 0),
    CONSTRAINT influencers_niche_check CHECK (niche IS NULL OR LEN(niche) >= 1),
    CONSTRAINT influencers_country_code_check
        CHECK (country_code IS NULL OR country_code COLLATE Latin1_General_100_BIN2 LIKE '[A-Z][A-Z]')
);

-- One live influencer per handle on a channel; a deleted one may be re-created with a new id.
CREATE UNIQUE NONCLUSTERED INDEX influencers_channel_id_handle_key
    ON ads.influencers (channel_id, handle) WHERE deleted_at IS NULL;
-- Covers the channel foreign key (all rows) and serves "top influencers on a channel".
CREATE NONCLUSTERED INDEX influencers_channel_id_followers_idx
    ON ads.influencers (channel_id, followers DESC);
CREATE NONCLUSTERED INDEX influencers_updated_at_id_idx ON ads.influencers (updated_at, id);
GO

CREATE TRIGGER ads.influencers_touch_updated_at
ON ads.influencers
AFTER INSERT, UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    IF TRIGGER_NESTLEVEL(@@PROCID) > 1 OR NOT EXISTS (SELECT 1 FROM inserted) RETURN;
    UPDATE t
    SET t.updated_at = SYSUTCDATETIME(),
        t.created_at = COALESCE(d.created_at, t.created_at)
    FROM ads.influencers AS t
    INNER JOIN inserted AS i ON i.id = t.id
    LEFT JOIN deleted AS d ON d.id = t.id;
END;
GO

-- =================================================================================================
-- Campaigns and their channels and markets
-- =================================================================================================

CREATE TABLE ads.campaigns (
    id              UNIQUEIDENTIFIER  NOT NULL,
    organization_id UNIQUEIDENTIFIER  NOT NULL,
    brand_id        UNIQUEIDENTIFIER  NOT NULL,
    -- Optional: a brand-level (e.g. awareness) campaign has no product.
    product_id      UNIQUEIDENTIFIER  NULL,
    name            NVARCHAR(200)     NOT NULL,
    description     NVARCHAR(4000)    NULL,
    objective       VARCHAR(16)       NOT NULL,
    status          VARCHAR(16)       NOT NULL CONSTRAINT campaigns_status_df DEFAULT 'draft',
    budget          DECIMAL(14, 2)    NOT NULL,  -- in campaigns.currency
    currency        CHAR(3)           NOT NULL CONSTRAINT campaigns_currency_df DEFAULT 'USD',
    starts_at       DATETIMEOFFSET(3) NOT NULL,
    ends_at         DATETIMEOFFSET(3) NOT NULL,
    -- Optimistic concurrency: UPDATE ... SET version = version + 1 WHERE id = @id AND version = @v.
    version         INT               NOT NULL CONSTRAINT campaigns_version_df DEFAULT 1,
    -- Client key of the create request (printable ASCII, no spaces); unique when present.
    idempotency_key VARCHAR(200)      NULL,
    created_by      UNIQUEIDENTIFIER  NULL,  -- portal user in PromptSales; no FK
    created_at      DATETIMEOFFSET(3) NOT NULL CONSTRAINT campaigns_created_at_df DEFAULT SYSUTCDATETIME(),
    updated_at      DATETIMEOFFSET(3) NOT NULL CONSTRAINT campaigns_updated_at_df DEFAULT SYSUTCDATETIME(),
    deleted_at      DATETIMEOFFSET(3) NULL,
    CONSTRAINT campaigns_pkey PRIMARY KEY CLUSTERED (id),
    -- The brand must belong to the campaign's organization (no cross-tenant references) ...
    CONSTRAINT campaigns_brand_id_organization_id_fkey
        FOREIGN KEY (brand_id, organization_id) REFERENCES ads.brands (id, organization_id),
    -- ... and the product, when there is one, to the campaign's brand.
    CONSTRAINT campaigns_product_id_brand_id_fkey
        FOREIGN KEY (product_id, brand_id) REFERENCES ads.products (id, brand_id),
    CONSTRAINT campaigns_name_check CHECK (LEN(name) >= 1),
    CONSTRAINT campaigns_description_check CHECK (description IS NULL OR LEN(description) <= 4000),
    CONSTRAINT campaigns_objective_check
        CHECK (objective COLLATE Latin1_General_100_BIN2
               IN ('awareness', 'traffic', 'engagement', 'leads', 'sales')),
    CONSTRAINT campaigns_status_check
        CHECK (status COLLATE Latin1_General_100_BIN2
               IN ('draft', 'scheduled', 'active', 'paused', 'finished', 'cancelled')),
    CONSTRAINT campaigns_budget_check CHECK (budget > 0),
    CONSTRAINT campaigns_currency_check
        CHECK (currency COLLATE Latin1_General_100_BIN2 LIKE '[A-Z][A-Z][A-Z]'),
    CONSTRAINT campaigns_ends_after_starts_check CHECK (ends_at > starts_at),
    CONSTRAINT campaigns_version_check CHECK (version >= 1),
    CONSTRAINT campaigns_idempotency_key_check
        CHECK (idempotency_key IS NULL
               OR (LEN(idempotency_key) >= 1
                   AND idempotency_key COLLATE Latin1_General_100_BIN2 NOT LIKE '%[^!-~]%'))
);

-- A retried create with the same key finds the first campaign instead of making a second one.
-- Deliberately not filtered on deleted_at: a retry must not resurrect a deleted campaign.
CREATE UNIQUE NONCLUSTERED INDEX campaigns_idempotency_key_key
    ON ads.campaigns (idempotency_key) WHERE idempotency_key IS NOT NULL;
-- Foreign keys (all rows, so the key checks can use them).
CREATE NONCLUSTERED INDEX campaigns_brand_id_organization_id_idx
    ON ads.campaigns (brand_id, organization_id);
CREATE NONCLUSTERED INDEX campaigns_product_id_brand_id_idx ON ads.campaigns (product_id, brand_id);
-- API lists: an organization's live campaigns by status and start date, or by start date alone;
-- staff (no organization) list by status. id last makes (starts_at, id) a keyset cursor.
CREATE NONCLUSTERED INDEX campaigns_organization_id_status_starts_at_idx
    ON ads.campaigns (organization_id, status, starts_at, id) WHERE deleted_at IS NULL;
CREATE NONCLUSTERED INDEX campaigns_organization_id_starts_at_idx
    ON ads.campaigns (organization_id, starts_at, id) WHERE deleted_at IS NULL;
CREATE NONCLUSTERED INDEX campaigns_status_starts_at_idx
    ON ads.campaigns (status, starts_at, id) WHERE deleted_at IS NULL;
CREATE NONCLUSTERED INDEX campaigns_updated_at_id_idx ON ads.campaigns (updated_at, id);
GO

CREATE TRIGGER ads.campaigns_touch_updated_at
ON ads.campaigns
AFTER INSERT, UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    IF TRIGGER_NESTLEVEL(@@PROCID) > 1 OR NOT EXISTS (SELECT 1 FROM inserted) RETURN;
    UPDATE t
    SET t.updated_at = SYSUTCDATETIME(),
        t.created_at = COALESCE(d.created_at, t.created_at)
    FROM ads.campaigns AS t
    INNER JOIN inserted AS i ON i.id = t.id
    LEFT JOIN deleted AS d ON d.id = t.id;
END;
GO

-- Link tables: the primary key is the pair, so a removed link is restored by clearing deleted_at
-- rather than inserting it again.

CREATE TABLE ads.campaign_channels (
    campaign_id  UNIQUEIDENTIFIER  NOT NULL,
    channel_id   UNIQUEIDENTIFIER  NOT NULL,
    -- Fraction of the campaign budget, in (0, 1]. The sum over live rows <= 1 is checked by the
    -- writer (a CHECK cannot see other rows).
    budget_share DECIMAL(5, 4)     NOT NULL,
    created_at   DATETIMEOFFSET(3) NOT NULL CONSTRAINT campaign_channels_created_at_df DEFAULT SYSUTCDATETIME(),
    updated_at   DATETIMEOFFSET(3) NOT NULL CONSTRAINT campaign_channels_updated_at_df DEFAULT SYSUTCDATETIME(),
    deleted_at   DATETIMEOFFSET(3) NULL,
    CONSTRAINT campaign_channels_pkey PRIMARY KEY CLUSTERED (campaign_id, channel_id),
    CONSTRAINT campaign_channels_campaign_id_fkey
        FOREIGN KEY (campaign_id) REFERENCES ads.campaigns (id),
    CONSTRAINT campaign_channels_channel_id_fkey
        FOREIGN KEY (channel_id) REFERENCES ads.channels (id),
    CONSTRAINT campaign_channels_budget_share_check CHECK (budget_share > 0 AND budget_share <= 1)
);

-- campaign_id is covered by the primary key.
CREATE NONCLUSTERED INDEX campaign_channels_channel_id_idx ON ads.campaign_channels (channel_id);
CREATE NONCLUSTERED INDEX campaign_channels_updated_at_campaign_id_channel_id_idx
    ON ads.campaign_channels (updated_at, campaign_id, channel_id);
GO

CREATE TRIGGER ads.campaign_channels_touch_updated_at
ON ads.campaign_channels
AFTER INSERT, UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    IF TRIGGER_NESTLEVEL(@@PROCID) > 1 OR NOT EXISTS (SELECT 1 FROM inserted) RETURN;
    UPDATE t
    SET t.updated_at = SYSUTCDATETIME(),
        t.created_at = COALESCE(d.created_at, t.created_at)
    FROM ads.campaign_channels AS t
    INNER JOIN inserted AS i ON i.campaign_id = t.campaign_id
        AND i.channel_id = t.channel_id
    LEFT JOIN deleted AS d ON d.campaign_id = t.campaign_id
        AND d.channel_id = t.channel_id;
END;
GO

CREATE TABLE ads.campaign_markets (
    campaign_id UNIQUEIDENTIFIER  NOT NULL,
    market_id   UNIQUEIDENTIFIER  NOT NULL,
    created_at  DATETIMEOFFSET(3) NOT NULL CONSTRAINT campaign_markets_created_at_df DEFAULT SYSUTCDATETIME(),
    updated_at  DATETIMEOFFSET(3) NOT NULL CONSTRAINT campaign_markets_updated_at_df DEFAULT SYSUTCDATETIME(),
    deleted_at  DATETIMEOFFSET(3) NULL,
    CONSTRAINT campaign_markets_pkey PRIMARY KEY CLUSTERED (campaign_id, market_id),
    CONSTRAINT campaign_markets_campaign_id_fkey
        FOREIGN KEY (campaign_id) REFERENCES ads.campaigns (id),
    CONSTRAINT campaign_markets_market_id_fkey
        FOREIGN KEY (market_id) REFERENCES ads.markets (id)
);

-- campaign_id is covered by the primary key.
CREATE NONCLUSTERED INDEX campaign_markets_market_id_idx ON ads.campaign_markets (market_id);
CREATE NONCLUSTERED INDEX campaign_markets_updated_at_campaign_id_market_id_idx
    ON ads.campaign_markets (updated_at, campaign_id, market_id);
GO

CREATE TRIGGER ads.campaign_markets_touch_updated_at
ON ads.campaign_markets
AFTER INSERT, UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    IF TRIGGER_NESTLEVEL(@@PROCID) > 1 OR NOT EXISTS (SELECT 1 FROM inserted) RETURN;
    UPDATE t
    SET t.updated_at = SYSUTCDATETIME(),
        t.created_at = COALESCE(d.created_at, t.created_at)
    FROM ads.campaign_markets AS t
    INNER JOIN inserted AS i ON i.campaign_id = t.campaign_id
        AND i.market_id = t.market_id
    LEFT JOIN deleted AS d ON d.campaign_id = t.campaign_id
        AND d.market_id = t.market_id;
END;
GO

-- =================================================================================================
-- Ads and their placements
-- =================================================================================================

CREATE TABLE ads.ads (
    id               UNIQUEIDENTIFIER  NOT NULL,
    campaign_id      UNIQUEIDENTIFIER  NOT NULL,
    name             NVARCHAR(200)     NOT NULL,
    format           VARCHAR(16)       NOT NULL,
    headline         NVARCHAR(200)     NULL,
    body             NVARCHAR(2000)    NULL,
    call_to_action   NVARCHAR(60)      NULL,
    landing_url      NVARCHAR(2000)    NULL,
    content_image_id UNIQUEIDENTIFIER  NULL,  -- PromptContent image (other store: no FK)
    status           VARCHAR(16)       NOT NULL CONSTRAINT ads_status_df DEFAULT 'draft',
    created_at       DATETIMEOFFSET(3) NOT NULL CONSTRAINT ads_created_at_df DEFAULT SYSUTCDATETIME(),
    updated_at       DATETIMEOFFSET(3) NOT NULL CONSTRAINT ads_updated_at_df DEFAULT SYSUTCDATETIME(),
    deleted_at       DATETIMEOFFSET(3) NULL,
    CONSTRAINT ads_pkey PRIMARY KEY CLUSTERED (id),
    -- Target of ad_results / sentiment_samples (ad_id, campaign_id): their denormalised
    -- campaign_id must be the ad's campaign.
    CONSTRAINT ads_id_campaign_id_key UNIQUE NONCLUSTERED (id, campaign_id),
    CONSTRAINT ads_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES ads.campaigns (id),
    CONSTRAINT ads_name_check CHECK (LEN(name) >= 1),
    CONSTRAINT ads_format_check
        CHECK (format COLLATE Latin1_General_100_BIN2
               IN ('image', 'video', 'carousel', 'story', 'text')),
    CONSTRAINT ads_headline_check CHECK (headline IS NULL OR LEN(headline) <= 200),
    CONSTRAINT ads_body_check CHECK (body IS NULL OR LEN(body) <= 2000),
    CONSTRAINT ads_call_to_action_check CHECK (call_to_action IS NULL OR LEN(call_to_action) <= 60),
    CONSTRAINT ads_landing_url_check
        CHECK (landing_url IS NULL
               OR ((LOWER(landing_url) LIKE N'http://_%' OR LOWER(landing_url) LIKE N'https://_%')
                   AND CHARINDEX(N' ', landing_url) = 0)),
    -- A text ad is nothing but its words.
    CONSTRAINT ads_text_format_check
        CHECK (format <> 'text' OR (headline IS NOT NULL AND body IS NOT NULL)),
    CONSTRAINT ads_status_check
        CHECK (status COLLATE Latin1_General_100_BIN2 IN ('draft', 'active', 'paused', 'finished'))
);

-- Covers the campaign foreign key and lists a campaign's ads by status.
CREATE NONCLUSTERED INDEX ads_campaign_id_status_idx ON ads.ads (campaign_id, status);
-- Which ads use a PromptContent image (content subgraph, image deletion checks).
CREATE NONCLUSTERED INDEX ads_content_image_id_idx
    ON ads.ads (content_image_id) WHERE content_image_id IS NOT NULL;
CREATE NONCLUSTERED INDEX ads_updated_at_id_idx ON ads.ads (updated_at, id);
GO

CREATE TRIGGER ads.ads_touch_updated_at
ON ads.ads
AFTER INSERT, UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    IF TRIGGER_NESTLEVEL(@@PROCID) > 1 OR NOT EXISTS (SELECT 1 FROM inserted) RETURN;
    UPDATE t
    SET t.updated_at = SYSUTCDATETIME(),
        t.created_at = COALESCE(d.created_at, t.created_at)
    FROM ads.ads AS t
    INNER JOIN inserted AS i ON i.id = t.id
    LEFT JOIN deleted AS d ON d.id = t.id;
END;
GO

CREATE TABLE ads.ad_placements (
    id            UNIQUEIDENTIFIER  NOT NULL,
    ad_id         UNIQUEIDENTIFIER  NOT NULL,
    channel_id    UNIQUEIDENTIFIER  NOT NULL,
    influencer_id UNIQUEIDENTIFIER  NULL,
    cost_model    VARCHAR(8)        NOT NULL,
    -- USD per unit of cost_model: per 1000 views (cpm), per click (cpc), per sale (cpa), or the
    -- whole placement (flat).
    unit_cost     DECIMAL(12, 4)    NOT NULL,
    starts_at     DATETIMEOFFSET(3) NULL,  -- NULL: from the campaign start
    ends_at       DATETIMEOFFSET(3) NULL,  -- NULL: until the campaign end
    created_at    DATETIMEOFFSET(3) NOT NULL CONSTRAINT ad_placements_created_at_df DEFAULT SYSUTCDATETIME(),
    updated_at    DATETIMEOFFSET(3) NOT NULL CONSTRAINT ad_placements_updated_at_df DEFAULT SYSUTCDATETIME(),
    deleted_at    DATETIMEOFFSET(3) NULL,
    CONSTRAINT ad_placements_pkey PRIMARY KEY CLUSTERED (id),
    CONSTRAINT ad_placements_ad_id_fkey FOREIGN KEY (ad_id) REFERENCES ads.ads (id),
    CONSTRAINT ad_placements_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES ads.channels (id),
    CONSTRAINT ad_placements_influencer_id_fkey
        FOREIGN KEY (influencer_id) REFERENCES ads.influencers (id),
    CONSTRAINT ad_placements_cost_model_check
        CHECK (cost_model COLLATE Latin1_General_100_BIN2 IN ('cpm', 'cpc', 'cpa', 'flat')),
    CONSTRAINT ad_placements_unit_cost_check CHECK (unit_cost >= 0),
    CONSTRAINT ad_placements_ends_after_starts_check
        CHECK (starts_at IS NULL OR ends_at IS NULL OR ends_at > starts_at)
);

-- One live placement per ad, channel and influencer, where "no influencer" counts as one value
-- (a SQL Server unique index treats NULLs as equal; the twin says NULLS NOT DISTINCT).
CREATE UNIQUE NONCLUSTERED INDEX ad_placements_ad_id_channel_id_influencer_id_key
    ON ads.ad_placements (ad_id, channel_id, influencer_id) WHERE deleted_at IS NULL;
-- Foreign keys over all rows (the unique index above skips tombstones).
CREATE NONCLUSTERED INDEX ad_placements_ad_id_idx ON ads.ad_placements (ad_id);
CREATE NONCLUSTERED INDEX ad_placements_channel_id_idx ON ads.ad_placements (channel_id);
CREATE NONCLUSTERED INDEX ad_placements_influencer_id_idx ON ads.ad_placements (influencer_id);
CREATE NONCLUSTERED INDEX ad_placements_updated_at_id_idx ON ads.ad_placements (updated_at, id);
GO

CREATE TRIGGER ads.ad_placements_touch_updated_at
ON ads.ad_placements
AFTER INSERT, UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    IF TRIGGER_NESTLEVEL(@@PROCID) > 1 OR NOT EXISTS (SELECT 1 FROM inserted) RETURN;
    UPDATE t
    SET t.updated_at = SYSUTCDATETIME(),
        t.created_at = COALESCE(d.created_at, t.created_at)
    FROM ads.ad_placements AS t
    INNER JOIN inserted AS i ON i.id = t.id
    LEFT JOIN deleted AS d ON d.id = t.id;
END;
GO

-- =================================================================================================
-- Results: daily facts per ad, channel, market; sentiment per ad, channel
-- =================================================================================================
-- Loaded by upsert on the primary key (a re-delivered day overwrites itself). campaign_id is
-- denormalised for per-campaign reports and kept honest by the (ad_id, campaign_id) foreign key
-- to ads. A retracted row (e.g. fraud) is tombstoned so the ETL subtracts it.

CREATE TABLE ads.ad_results (
    campaign_id    UNIQUEIDENTIFIER  NOT NULL,
    ad_id          UNIQUEIDENTIFIER  NOT NULL,
    channel_id     UNIQUEIDENTIFIER  NOT NULL,
    market_id      UNIQUEIDENTIFIER  NOT NULL,
    day            DATE              NOT NULL,  -- the market's calendar day
    likes          BIGINT            NOT NULL CONSTRAINT ad_results_likes_df DEFAULT 0,
    views          BIGINT            NOT NULL CONSTRAINT ad_results_views_df DEFAULT 0,  -- impressions
    interactions   BIGINT            NOT NULL CONSTRAINT ad_results_interactions_df DEFAULT 0,
    sales          BIGINT            NOT NULL CONSTRAINT ad_results_sales_df DEFAULT 0,
    exposure_hours DECIMAL(12, 2)    NOT NULL CONSTRAINT ad_results_exposure_hours_df DEFAULT 0,
    reach          BIGINT            NOT NULL CONSTRAINT ad_results_reach_df DEFAULT 0,  -- distinct people
    cost           DECIMAL(14, 2)    NOT NULL CONSTRAINT ad_results_cost_df DEFAULT 0,  -- USD
    revenue        DECIMAL(14, 2)    NOT NULL CONSTRAINT ad_results_revenue_df DEFAULT 0,  -- USD, attributed
    created_at     DATETIMEOFFSET(3) NOT NULL CONSTRAINT ad_results_created_at_df DEFAULT SYSUTCDATETIME(),
    updated_at     DATETIMEOFFSET(3) NOT NULL CONSTRAINT ad_results_updated_at_df DEFAULT SYSUTCDATETIME(),
    deleted_at     DATETIMEOFFSET(3) NULL,
    CONSTRAINT ad_results_pkey PRIMARY KEY CLUSTERED (ad_id, channel_id, market_id, day),
    CONSTRAINT ad_results_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES ads.campaigns (id),
    CONSTRAINT ad_results_ad_id_campaign_id_fkey
        FOREIGN KEY (ad_id, campaign_id) REFERENCES ads.ads (id, campaign_id),
    CONSTRAINT ad_results_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES ads.channels (id),
    CONSTRAINT ad_results_market_id_fkey FOREIGN KEY (market_id) REFERENCES ads.markets (id),
    -- The funnel: every sale came from an interaction, every interaction (a like is one) from a
    -- view; a person reached saw the ad at least once.
    CONSTRAINT ad_results_funnel_check
        CHECK (sales >= 0 AND interactions >= sales AND views >= interactions),
    CONSTRAINT ad_results_likes_check CHECK (likes >= 0 AND likes <= interactions),
    CONSTRAINT ad_results_reach_check CHECK (reach >= 0 AND reach <= views),
    CONSTRAINT ad_results_exposure_hours_check CHECK (exposure_hours >= 0),
    CONSTRAINT ad_results_cost_check CHECK (cost >= 0),
    CONSTRAINT ad_results_revenue_check CHECK (revenue >= 0)
);

-- Per-campaign reports by day read only this index; deleted_at is included so tombstoned rows are
-- filtered in the index, and the clustered key (ad, channel, market) rides along in every
-- nonclustered row. Also covers the campaign foreign key.
CREATE NONCLUSTERED INDEX ad_results_campaign_id_day_idx
    ON ads.ad_results (campaign_id, day)
    INCLUDE (likes, views, interactions, sales, exposure_hours, reach, cost, revenue, deleted_at);
-- Covers the (ad_id, campaign_id) foreign key.
CREATE NONCLUSTERED INDEX ad_results_ad_id_campaign_id_idx ON ads.ad_results (ad_id, campaign_id);
-- Cover the channel and market foreign keys and serve per-channel / per-market reports by day.
CREATE NONCLUSTERED INDEX ad_results_channel_id_day_idx ON ads.ad_results (channel_id, day);
CREATE NONCLUSTERED INDEX ad_results_market_id_day_idx ON ads.ad_results (market_id, day);
CREATE NONCLUSTERED INDEX ad_results_updated_at_ad_id_channel_id_market_id_day_idx
    ON ads.ad_results (updated_at, ad_id, channel_id, market_id, day);
GO

CREATE TRIGGER ads.ad_results_touch_updated_at
ON ads.ad_results
AFTER INSERT, UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    IF TRIGGER_NESTLEVEL(@@PROCID) > 1 OR NOT EXISTS (SELECT 1 FROM inserted) RETURN;
    UPDATE t
    SET t.updated_at = SYSUTCDATETIME(),
        t.created_at = COALESCE(d.created_at, t.created_at)
    FROM ads.ad_results AS t
    INNER JOIN inserted AS i ON i.ad_id = t.ad_id
        AND i.channel_id = t.channel_id
        AND i.market_id = t.market_id
        AND i.day = t.day
    LEFT JOIN deleted AS d ON d.ad_id = t.ad_id
        AND d.channel_id = t.channel_id
        AND d.market_id = t.market_id
        AND d.day = t.day;
END;
GO

CREATE TABLE ads.sentiment_samples (
    campaign_id          UNIQUEIDENTIFIER  NOT NULL,
    ad_id                UNIQUEIDENTIFIER  NOT NULL,
    channel_id           UNIQUEIDENTIFIER  NOT NULL,
    day                  DATE              NOT NULL,
    polarity             DECIMAL(4, 3)     NOT NULL,  -- net sentiment in [-1, 1]
    positive_count       INT               NOT NULL CONSTRAINT sentiment_samples_positive_count_df DEFAULT 0,
    neutral_count        INT               NOT NULL CONSTRAINT sentiment_samples_neutral_count_df DEFAULT 0,
    negative_count       INT               NOT NULL CONSTRAINT sentiment_samples_negative_count_df DEFAULT 0,
    -- Dominant negative sentiment type: NULL when there were no negative mentions; required when
    -- polarity < 0.
    negative_type        VARCHAR(16)       NULL,
    -- Reactions (posts, replies) by influencers about the ad that day.
    influencer_reactions INT               NOT NULL CONSTRAINT sentiment_samples_influencer_reactions_df DEFAULT 0,
    created_at           DATETIMEOFFSET(3) NOT NULL CONSTRAINT sentiment_samples_created_at_df DEFAULT SYSUTCDATETIME(),
    updated_at           DATETIMEOFFSET(3) NOT NULL CONSTRAINT sentiment_samples_updated_at_df DEFAULT SYSUTCDATETIME(),
    deleted_at           DATETIMEOFFSET(3) NULL,
    CONSTRAINT sentiment_samples_pkey PRIMARY KEY CLUSTERED (ad_id, channel_id, day),
    CONSTRAINT sentiment_samples_campaign_id_fkey
        FOREIGN KEY (campaign_id) REFERENCES ads.campaigns (id),
    CONSTRAINT sentiment_samples_ad_id_campaign_id_fkey
        FOREIGN KEY (ad_id, campaign_id) REFERENCES ads.ads (id, campaign_id),
    CONSTRAINT sentiment_samples_channel_id_fkey
        FOREIGN KEY (channel_id) REFERENCES ads.channels (id),
    CONSTRAINT sentiment_samples_polarity_check CHECK (polarity BETWEEN -1 AND 1),
    CONSTRAINT sentiment_samples_counts_check
        CHECK (positive_count >= 0 AND neutral_count >= 0 AND negative_count >= 0),
    CONSTRAINT sentiment_samples_influencer_reactions_check CHECK (influencer_reactions >= 0),
    CONSTRAINT sentiment_samples_negative_type_check
        CHECK (negative_type IS NULL
               OR negative_type COLLATE Latin1_General_100_BIN2
                  IN ('offensive', 'misleading', 'price', 'quality', 'service', 'spam', 'other')),
    -- The dominant negative type is named only when there were negative mentions, and must be
    -- named when the day's sentiment is negative overall.
    CONSTRAINT sentiment_samples_negative_type_needs_mentions_check
        CHECK (negative_type IS NULL OR negative_count > 0),
    CONSTRAINT sentiment_samples_negative_polarity_needs_type_check
        CHECK (polarity >= 0 OR negative_type IS NOT NULL)
);

-- Per-campaign sentiment by day from the index alone; also covers the campaign foreign key.
CREATE NONCLUSTERED INDEX sentiment_samples_campaign_id_day_idx
    ON ads.sentiment_samples (campaign_id, day)
    INCLUDE (polarity, positive_count, neutral_count, negative_count, negative_type,
             influencer_reactions, deleted_at);
CREATE NONCLUSTERED INDEX sentiment_samples_ad_id_campaign_id_idx
    ON ads.sentiment_samples (ad_id, campaign_id);
CREATE NONCLUSTERED INDEX sentiment_samples_channel_id_day_idx
    ON ads.sentiment_samples (channel_id, day);
CREATE NONCLUSTERED INDEX sentiment_samples_updated_at_ad_id_channel_id_day_idx
    ON ads.sentiment_samples (updated_at, ad_id, channel_id, day);
GO

CREATE TRIGGER ads.sentiment_samples_touch_updated_at
ON ads.sentiment_samples
AFTER INSERT, UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    IF TRIGGER_NESTLEVEL(@@PROCID) > 1 OR NOT EXISTS (SELECT 1 FROM inserted) RETURN;
    UPDATE t
    SET t.updated_at = SYSUTCDATETIME(),
        t.created_at = COALESCE(d.created_at, t.created_at)
    FROM ads.sentiment_samples AS t
    INNER JOIN inserted AS i ON i.ad_id = t.ad_id
        AND i.channel_id = t.channel_id
        AND i.day = t.day
    LEFT JOIN deleted AS d ON d.ad_id = t.ad_id
        AND d.channel_id = t.channel_id
        AND d.day = t.day;
END;
GO

-- =================================================================================================
-- Table-valued parameter types for the future ads.PRADSSP_CreateCampaign procedure
-- (twins of the PostgreSQL composite types ads.campaign_channel_item, ads.campaign_market_item,
-- ads.campaign_ad_item). Table-type constraints cannot be named, so they are inline: the key of
-- each list rejects duplicates before the procedure runs; the procedure still validates codes.
-- =================================================================================================

CREATE TYPE ads.CampaignChannelList AS TABLE (
    channel_code VARCHAR(40)   NOT NULL PRIMARY KEY,
    budget_share DECIMAL(5, 4) NOT NULL CHECK (budget_share > 0 AND budget_share <= 1)
);
GO

CREATE TYPE ads.CampaignMarketList AS TABLE (
    market_code VARCHAR(8) NOT NULL PRIMARY KEY
);
GO

CREATE TYPE ads.CampaignAdList AS TABLE (
    ad_id            UNIQUEIDENTIFIER NOT NULL PRIMARY KEY,
    name             NVARCHAR(200)    NOT NULL,
    format           VARCHAR(16)      NOT NULL,
    headline         NVARCHAR(200)    NULL,
    body             NVARCHAR(2000)   NULL,
    call_to_action   NVARCHAR(60)     NULL,
    landing_url      NVARCHAR(2000)   NULL,
    content_image_id UNIQUEIDENTIFIER NULL
);
GO
