-- PromptAds (schema ads), PostgreSQL twin of sql/ads/mssql/0001_init.sql.
--
-- Campaigns, their ads, where the ads run (channels, markets, influencers) and what they achieved
-- (daily results and sentiment). Contract: docs/data-model.md. Both files have the same tables,
-- columns, constraint and index names; where a type differs, a trailing comment on the line gives
-- the SQL Server type.
--
-- Rules that hold for the whole file:
-- * Ids come from the application (uuid, no defaults). channels and markets use UUIDv5 of their
--   code, so every store agrees on them without a lookup.
-- * Every table has created_at/updated_at, kept by ads.touch_updated_at(); every table the ETL
--   reads has an (updated_at, <primary key>) index for keyset pagination of ...UpdatedSince.
-- * Deleting means setting deleted_at (a tombstone), which moves updated_at, so the ETL sees it.
--   Foreign keys are NO ACTION: a hard delete is a deliberate purge that removes children first.
-- * Enumerations are lowercase text with a CHECK; codes (currency, country, market) are uppercase.
-- * Applied in one transaction by the sqlx migrator: no CONCURRENTLY, no extensions.

CREATE SCHEMA ads;

COMMENT ON SCHEMA ads IS 'PromptAds: campaigns, ads, placements, daily results and sentiment.';

-- =================================================================================================
-- updated_at trigger function
-- =================================================================================================

-- Stamps updated_at with the wall clock (not the transaction start, so two updates in one
-- transaction are ordered) and keeps created_at immutable after insert. Callers cannot back-date.
CREATE FUNCTION ads.touch_updated_at() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := clock_timestamp();
    IF TG_OP = 'UPDATE' THEN
        NEW.created_at := OLD.created_at;
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION ads.touch_updated_at() IS
    'BEFORE INSERT OR UPDATE row trigger: sets updated_at := clock_timestamp(), freezes created_at.';

-- =================================================================================================
-- Reference copies of the central store (PromptSales): brands, products
-- =================================================================================================
-- Written only by the sync from PromptSales, with the same ids; they let the ads reports run
-- without a cross-store join. No uniqueness on names: the central store owns that rule, and a
-- copy that enforced it could reject a legitimate rename applied out of order.

CREATE TABLE ads.brands (
    id              uuid        NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    organization_id uuid        NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    name            text        NOT NULL,  -- SQL Server: NVARCHAR(200)
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    deleted_at      timestamptz,                                     -- SQL Server: DATETIMEOFFSET(3)
    CONSTRAINT brands_pkey PRIMARY KEY (id),
    -- Target of the (brand_id, organization_id) foreign keys below: a product or campaign can only
    -- point at a brand of its own organization.
    CONSTRAINT brands_id_organization_id_key UNIQUE (id, organization_id),
    CONSTRAINT brands_name_check CHECK (char_length(name) <= 200 AND btrim(name) <> '')
);

CREATE INDEX brands_organization_id_name_idx ON ads.brands (organization_id, name);
CREATE INDEX brands_updated_at_id_idx ON ads.brands (updated_at, id);

CREATE TRIGGER brands_touch_updated_at
    BEFORE INSERT OR UPDATE ON ads.brands
    FOR EACH ROW EXECUTE FUNCTION ads.touch_updated_at();

COMMENT ON TABLE ads.brands IS
    'Reference copy of sales.brands (same ids), kept by the sync from PromptSales.';

CREATE TABLE ads.products (
    id              uuid          NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    brand_id        uuid          NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    organization_id uuid          NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    name            text          NOT NULL,  -- SQL Server: NVARCHAR(200)
    unit_price      numeric(12,2) NOT NULL,  -- SQL Server: DECIMAL(12,2)
    currency        char(3)       NOT NULL DEFAULT 'USD',
    created_at      timestamptz   NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    updated_at      timestamptz   NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    deleted_at      timestamptz,                                       -- SQL Server: DATETIMEOFFSET(3)
    CONSTRAINT products_pkey PRIMARY KEY (id),
    -- Target of campaigns (product_id, brand_id): a campaign's product belongs to its brand.
    CONSTRAINT products_id_brand_id_key UNIQUE (id, brand_id),
    CONSTRAINT products_brand_id_organization_id_fkey
        FOREIGN KEY (brand_id, organization_id) REFERENCES ads.brands (id, organization_id),
    CONSTRAINT products_name_check CHECK (char_length(name) <= 200 AND btrim(name) <> ''),
    CONSTRAINT products_unit_price_check CHECK (unit_price >= 0),
    CONSTRAINT products_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);

CREATE INDEX products_brand_id_organization_id_idx ON ads.products (brand_id, organization_id);
CREATE INDEX products_organization_id_name_idx ON ads.products (organization_id, name);
CREATE INDEX products_updated_at_id_idx ON ads.products (updated_at, id);

CREATE TRIGGER products_touch_updated_at
    BEFORE INSERT OR UPDATE ON ads.products
    FOR EACH ROW EXECUTE FUNCTION ads.touch_updated_at();

COMMENT ON TABLE ads.products IS
    'Reference copy of sales.products (same ids), kept by the sync from PromptSales.';
COMMENT ON COLUMN ads.products.unit_price IS 'List price in products.currency (ISO 4217).';

-- =================================================================================================
-- Where ads run: channels, markets, influencers
-- =================================================================================================
-- channels and markets are shared reference data: id = UUIDv5(code) under PROMPTSALES_NS. Because
-- the id is derived from the code, re-creating a deleted code yields the same id, so it is done by
-- clearing deleted_at; that is why code is unique over all rows, not only live ones.

CREATE TABLE ads.channels (
    id                 uuid        NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    code               text        NOT NULL,  -- SQL Server: VARCHAR(40)
    name               text        NOT NULL,  -- SQL Server: NVARCHAR(100)
    kind               text        NOT NULL,  -- SQL Server: VARCHAR(16)
    default_cost_model text        NOT NULL DEFAULT 'cpm',  -- SQL Server: VARCHAR(8)
    created_at         timestamptz NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    updated_at         timestamptz NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    deleted_at         timestamptz,                                     -- SQL Server: DATETIMEOFFSET(3)
    CONSTRAINT channels_pkey PRIMARY KEY (id),
    CONSTRAINT channels_code_key UNIQUE (code),
    CONSTRAINT channels_code_check CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
    CONSTRAINT channels_name_check CHECK (char_length(name) <= 100 AND btrim(name) <> ''),
    CONSTRAINT channels_kind_check
        CHECK (kind IN ('social', 'email', 'sms', 'professional', 'influencer', 'search')),
    CONSTRAINT channels_default_cost_model_check
        CHECK (default_cost_model IN ('cpm', 'cpc', 'cpa', 'flat'))
);

CREATE INDEX channels_updated_at_id_idx ON ads.channels (updated_at, id);

CREATE TRIGGER channels_touch_updated_at
    BEFORE INSERT OR UPDATE ON ads.channels
    FOR EACH ROW EXECUTE FUNCTION ads.touch_updated_at();

COMMENT ON TABLE ads.channels IS
    'Media channels (instagram, email, ...). id = UUIDv5(code); shared with crm and sales.';
COMMENT ON COLUMN ads.channels.default_cost_model IS
    'Cost model proposed for new placements on this channel: cpm, cpc, cpa or flat.';

CREATE TABLE ads.markets (
    id           uuid        NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    code         text        NOT NULL,  -- SQL Server: VARCHAR(8)
    country_code char(2)     NOT NULL,
    region       text        NOT NULL,  -- SQL Server: VARCHAR(16)
    name         text        NOT NULL,  -- SQL Server: NVARCHAR(100)
    currency     char(3)     NOT NULL,
    timezone     text        NOT NULL,  -- SQL Server: VARCHAR(64)
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    deleted_at   timestamptz,                                     -- SQL Server: DATETIMEOFFSET(3)
    CONSTRAINT markets_pkey PRIMARY KEY (id),
    CONSTRAINT markets_code_key UNIQUE (code),
    CONSTRAINT markets_code_check CHECK (code ~ '^[A-Z][A-Z0-9_-]{1,7}$'),
    CONSTRAINT markets_country_code_check CHECK (country_code ~ '^[A-Z]{2}$'),
    CONSTRAINT markets_region_check CHECK (region ~ '^[A-Z][A-Z0-9_]{1,15}$'),
    CONSTRAINT markets_name_check CHECK (char_length(name) <= 100 AND btrim(name) <> ''),
    CONSTRAINT markets_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT markets_timezone_check
        CHECK (char_length(timezone) BETWEEN 1 AND 64 AND position(' ' IN timezone) = 0)
);

CREATE INDEX markets_region_idx ON ads.markets (region);
CREATE INDEX markets_updated_at_id_idx ON ads.markets (updated_at, id);

CREATE TRIGGER markets_touch_updated_at
    BEFORE INSERT OR UPDATE ON ads.markets
    FOR EACH ROW EXECUTE FUNCTION ads.touch_updated_at();

COMMENT ON TABLE ads.markets IS
    'Target markets (MX, US, ...). id = UUIDv5(code); shared with crm and sales.';
COMMENT ON COLUMN ads.markets.country_code IS 'ISO 3166-1 alpha-2.';
COMMENT ON COLUMN ads.markets.region IS 'Reporting region in uppercase, e.g. LATAM, NA, EMEA, APAC.';
COMMENT ON COLUMN ads.markets.timezone IS 'IANA zone name (America/Mexico_City): where a market''s day starts.';

CREATE TABLE ads.influencers (
    id           uuid        NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    channel_id   uuid        NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    handle       text        NOT NULL,  -- SQL Server: NVARCHAR(100)
    display_name text        NOT NULL,  -- SQL Server: NVARCHAR(200)
    followers    bigint      NOT NULL DEFAULT 0,
    niche        text,                  -- SQL Server: NVARCHAR(100)
    country_code char(2),
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    deleted_at   timestamptz,                                     -- SQL Server: DATETIMEOFFSET(3)
    CONSTRAINT influencers_pkey PRIMARY KEY (id),
    CONSTRAINT influencers_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES ads.channels (id),
    -- Handles are stored normalised (lowercase, without the leading '@') so that uniqueness is
    -- case-insensitive in both dialects; display_name keeps the presentation form.
    CONSTRAINT influencers_handle_check
        CHECK (char_length(handle) BETWEEN 1 AND 100
               AND handle = lower(handle)
               AND left(handle, 1) <> '@'
               AND position(' ' IN handle) = 0),
    CONSTRAINT influencers_display_name_check
        CHECK (char_length(display_name) <= 200 AND btrim(display_name) <> ''),
    CONSTRAINT influencers_followers_check CHECK (followers >= 0),
    CONSTRAINT influencers_niche_check
        CHECK (niche IS NULL OR (char_length(niche) <= 100 AND btrim(niche) <> '')),
    CONSTRAINT influencers_country_code_check
        CHECK (country_code IS NULL OR country_code ~ '^[A-Z]{2}$')
);

-- One live influencer per handle on a channel; a deleted one may be re-created with a new id.
CREATE UNIQUE INDEX influencers_channel_id_handle_key
    ON ads.influencers (channel_id, handle) WHERE deleted_at IS NULL;
-- Covers the channel foreign key (all rows) and serves "top influencers on a channel".
CREATE INDEX influencers_channel_id_followers_idx ON ads.influencers (channel_id, followers DESC);
CREATE INDEX influencers_updated_at_id_idx ON ads.influencers (updated_at, id);

CREATE TRIGGER influencers_touch_updated_at
    BEFORE INSERT OR UPDATE ON ads.influencers
    FOR EACH ROW EXECUTE FUNCTION ads.touch_updated_at();

COMMENT ON TABLE ads.influencers IS 'Influencers that ads can be placed with, by home channel.';
COMMENT ON COLUMN ads.influencers.handle IS 'Lowercase, without the leading @; unique per channel among live rows.';

-- =================================================================================================
-- Campaigns and their channels and markets
-- =================================================================================================

CREATE TABLE ads.campaigns (
    id              uuid          NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    organization_id uuid          NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    brand_id        uuid          NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    product_id      uuid,                    -- SQL Server: UNIQUEIDENTIFIER
    name            text          NOT NULL,  -- SQL Server: NVARCHAR(200)
    description     text,                    -- SQL Server: NVARCHAR(4000)
    objective       text          NOT NULL,  -- SQL Server: VARCHAR(16)
    status          text          NOT NULL DEFAULT 'draft',  -- SQL Server: VARCHAR(16)
    budget          numeric(14,2) NOT NULL,  -- SQL Server: DECIMAL(14,2)
    currency        char(3)       NOT NULL DEFAULT 'USD',
    starts_at       timestamptz   NOT NULL,  -- SQL Server: DATETIMEOFFSET(3)
    ends_at         timestamptz   NOT NULL,  -- SQL Server: DATETIMEOFFSET(3)
    version         integer       NOT NULL DEFAULT 1,  -- SQL Server: INT
    idempotency_key text,                    -- SQL Server: VARCHAR(200)
    created_by      uuid,                    -- SQL Server: UNIQUEIDENTIFIER
    created_at      timestamptz   NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    updated_at      timestamptz   NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    deleted_at      timestamptz,                                       -- SQL Server: DATETIMEOFFSET(3)
    CONSTRAINT campaigns_pkey PRIMARY KEY (id),
    -- The brand must belong to the campaign's organization (no cross-tenant references) ...
    CONSTRAINT campaigns_brand_id_organization_id_fkey
        FOREIGN KEY (brand_id, organization_id) REFERENCES ads.brands (id, organization_id),
    -- ... and the product, when there is one, to the campaign's brand.
    CONSTRAINT campaigns_product_id_brand_id_fkey
        FOREIGN KEY (product_id, brand_id) REFERENCES ads.products (id, brand_id),
    CONSTRAINT campaigns_name_check CHECK (char_length(name) <= 200 AND btrim(name) <> ''),
    CONSTRAINT campaigns_description_check
        CHECK (description IS NULL OR char_length(description) <= 4000),
    CONSTRAINT campaigns_objective_check
        CHECK (objective IN ('awareness', 'traffic', 'engagement', 'leads', 'sales')),
    CONSTRAINT campaigns_status_check
        CHECK (status IN ('draft', 'scheduled', 'active', 'paused', 'finished', 'cancelled')),
    CONSTRAINT campaigns_budget_check CHECK (budget > 0),
    CONSTRAINT campaigns_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT campaigns_ends_after_starts_check CHECK (ends_at > starts_at),
    CONSTRAINT campaigns_version_check CHECK (version >= 1),
    CONSTRAINT campaigns_idempotency_key_check
        CHECK (idempotency_key IS NULL OR idempotency_key ~ '^[!-~]{1,200}$')
);

-- A retried create with the same key finds the first campaign instead of making a second one.
-- Deliberately not filtered on deleted_at: a retry must not resurrect a deleted campaign.
CREATE UNIQUE INDEX campaigns_idempotency_key_key
    ON ads.campaigns (idempotency_key) WHERE idempotency_key IS NOT NULL;
-- Foreign keys (all rows, so the key checks can use them).
CREATE INDEX campaigns_brand_id_organization_id_idx ON ads.campaigns (brand_id, organization_id);
CREATE INDEX campaigns_product_id_brand_id_idx ON ads.campaigns (product_id, brand_id);
-- API lists: an organization's live campaigns by status and start date, or by start date alone;
-- staff (no organization) list by status. id last makes (starts_at, id) a keyset cursor.
CREATE INDEX campaigns_organization_id_status_starts_at_idx
    ON ads.campaigns (organization_id, status, starts_at, id) WHERE deleted_at IS NULL;
CREATE INDEX campaigns_organization_id_starts_at_idx
    ON ads.campaigns (organization_id, starts_at, id) WHERE deleted_at IS NULL;
CREATE INDEX campaigns_status_starts_at_idx
    ON ads.campaigns (status, starts_at, id) WHERE deleted_at IS NULL;
CREATE INDEX campaigns_updated_at_id_idx ON ads.campaigns (updated_at, id);

CREATE TRIGGER campaigns_touch_updated_at
    BEFORE INSERT OR UPDATE ON ads.campaigns
    FOR EACH ROW EXECUTE FUNCTION ads.touch_updated_at();

COMMENT ON TABLE ads.campaigns IS
    'Advertising campaigns. PromptAds owns this row; other stores keep campaign_id without a FK.';
COMMENT ON COLUMN ads.campaigns.product_id IS
    'Optional: a brand-level (e.g. awareness) campaign has no product. Must belong to brand_id.';
COMMENT ON COLUMN ads.campaigns.budget IS 'Total budget in campaigns.currency; must be positive.';
COMMENT ON COLUMN ads.campaigns.version IS
    'Optimistic concurrency: writers UPDATE ... SET version = version + 1 WHERE id = $1 AND version = $2.';
COMMENT ON COLUMN ads.campaigns.idempotency_key IS
    'Client key of the create request (printable ASCII, no spaces); unique when present.';
COMMENT ON COLUMN ads.campaigns.created_by IS 'Portal user (sales.portal_users) who created it; no FK.';

-- Link tables: the primary key is the pair, so a removed link is restored by clearing deleted_at
-- rather than inserting it again.

CREATE TABLE ads.campaign_channels (
    campaign_id  uuid         NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    channel_id   uuid         NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    budget_share numeric(5,4) NOT NULL,  -- SQL Server: DECIMAL(5,4)
    created_at   timestamptz  NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    updated_at   timestamptz  NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    deleted_at   timestamptz,                                      -- SQL Server: DATETIMEOFFSET(3)
    CONSTRAINT campaign_channels_pkey PRIMARY KEY (campaign_id, channel_id),
    CONSTRAINT campaign_channels_campaign_id_fkey
        FOREIGN KEY (campaign_id) REFERENCES ads.campaigns (id),
    CONSTRAINT campaign_channels_channel_id_fkey
        FOREIGN KEY (channel_id) REFERENCES ads.channels (id),
    CONSTRAINT campaign_channels_budget_share_check CHECK (budget_share > 0 AND budget_share <= 1)
);

-- campaign_id is covered by the primary key.
CREATE INDEX campaign_channels_channel_id_idx ON ads.campaign_channels (channel_id);
CREATE INDEX campaign_channels_updated_at_campaign_id_channel_id_idx
    ON ads.campaign_channels (updated_at, campaign_id, channel_id);

CREATE TRIGGER campaign_channels_touch_updated_at
    BEFORE INSERT OR UPDATE ON ads.campaign_channels
    FOR EACH ROW EXECUTE FUNCTION ads.touch_updated_at();

COMMENT ON TABLE ads.campaign_channels IS
    'Channels a campaign runs on and the share of its budget each gets.';
COMMENT ON COLUMN ads.campaign_channels.budget_share IS
    'Fraction of the campaign budget, in (0, 1]. The sum over live rows <= 1 is checked by the writer (a CHECK cannot see other rows).';

CREATE TABLE ads.campaign_markets (
    campaign_id uuid        NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    market_id   uuid        NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    deleted_at  timestamptz,                                     -- SQL Server: DATETIMEOFFSET(3)
    CONSTRAINT campaign_markets_pkey PRIMARY KEY (campaign_id, market_id),
    CONSTRAINT campaign_markets_campaign_id_fkey
        FOREIGN KEY (campaign_id) REFERENCES ads.campaigns (id),
    CONSTRAINT campaign_markets_market_id_fkey
        FOREIGN KEY (market_id) REFERENCES ads.markets (id)
);

-- campaign_id is covered by the primary key.
CREATE INDEX campaign_markets_market_id_idx ON ads.campaign_markets (market_id);
CREATE INDEX campaign_markets_updated_at_campaign_id_market_id_idx
    ON ads.campaign_markets (updated_at, campaign_id, market_id);

CREATE TRIGGER campaign_markets_touch_updated_at
    BEFORE INSERT OR UPDATE ON ads.campaign_markets
    FOR EACH ROW EXECUTE FUNCTION ads.touch_updated_at();

COMMENT ON TABLE ads.campaign_markets IS 'Markets a campaign targets.';

-- =================================================================================================
-- Ads and their placements
-- =================================================================================================

CREATE TABLE ads.ads (
    id               uuid        NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    campaign_id      uuid        NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    name             text        NOT NULL,  -- SQL Server: NVARCHAR(200)
    format           text        NOT NULL,  -- SQL Server: VARCHAR(16)
    headline         text,                  -- SQL Server: NVARCHAR(200)
    body             text,                  -- SQL Server: NVARCHAR(2000)
    call_to_action   text,                  -- SQL Server: NVARCHAR(60)
    landing_url      text,                  -- SQL Server: NVARCHAR(2000)
    content_image_id uuid,                  -- SQL Server: UNIQUEIDENTIFIER
    status           text        NOT NULL DEFAULT 'draft',  -- SQL Server: VARCHAR(16)
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    deleted_at       timestamptz,                                     -- SQL Server: DATETIMEOFFSET(3)
    CONSTRAINT ads_pkey PRIMARY KEY (id),
    -- Target of ad_results / sentiment_samples (ad_id, campaign_id): their denormalised
    -- campaign_id must be the ad's campaign.
    CONSTRAINT ads_id_campaign_id_key UNIQUE (id, campaign_id),
    CONSTRAINT ads_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES ads.campaigns (id),
    CONSTRAINT ads_name_check CHECK (char_length(name) <= 200 AND btrim(name) <> ''),
    CONSTRAINT ads_format_check CHECK (format IN ('image', 'video', 'carousel', 'story', 'text')),
    CONSTRAINT ads_headline_check CHECK (headline IS NULL OR char_length(headline) <= 200),
    CONSTRAINT ads_body_check CHECK (body IS NULL OR char_length(body) <= 2000),
    CONSTRAINT ads_call_to_action_check
        CHECK (call_to_action IS NULL OR char_length(call_to_action) <= 60),
    CONSTRAINT ads_landing_url_check
        CHECK (landing_url IS NULL
               OR (char_length(landing_url) <= 2000 AND landing_url ~* '^https?://[^ ]+$')),
    -- A text ad is nothing but its words.
    CONSTRAINT ads_text_format_check
        CHECK (format <> 'text' OR (headline IS NOT NULL AND body IS NOT NULL)),
    CONSTRAINT ads_status_check CHECK (status IN ('draft', 'active', 'paused', 'finished'))
);

-- Covers the campaign foreign key and lists a campaign's ads by status.
CREATE INDEX ads_campaign_id_status_idx ON ads.ads (campaign_id, status);
-- Which ads use a PromptContent image (content subgraph, image deletion checks).
CREATE INDEX ads_content_image_id_idx ON ads.ads (content_image_id) WHERE content_image_id IS NOT NULL;
CREATE INDEX ads_updated_at_id_idx ON ads.ads (updated_at, id);

CREATE TRIGGER ads_touch_updated_at
    BEFORE INSERT OR UPDATE ON ads.ads
    FOR EACH ROW EXECUTE FUNCTION ads.touch_updated_at();

COMMENT ON TABLE ads.ads IS 'Creatives of a campaign.';
COMMENT ON COLUMN ads.ads.content_image_id IS 'PromptContent image id (other store: no FK).';

CREATE TABLE ads.ad_placements (
    id            uuid          NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    ad_id         uuid          NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    channel_id    uuid          NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    influencer_id uuid,                    -- SQL Server: UNIQUEIDENTIFIER
    cost_model    text          NOT NULL,  -- SQL Server: VARCHAR(8)
    unit_cost     numeric(12,4) NOT NULL,  -- SQL Server: DECIMAL(12,4)
    starts_at     timestamptz,             -- SQL Server: DATETIMEOFFSET(3)
    ends_at       timestamptz,             -- SQL Server: DATETIMEOFFSET(3)
    created_at    timestamptz   NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    updated_at    timestamptz   NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    deleted_at    timestamptz,                                       -- SQL Server: DATETIMEOFFSET(3)
    CONSTRAINT ad_placements_pkey PRIMARY KEY (id),
    CONSTRAINT ad_placements_ad_id_fkey FOREIGN KEY (ad_id) REFERENCES ads.ads (id),
    CONSTRAINT ad_placements_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES ads.channels (id),
    CONSTRAINT ad_placements_influencer_id_fkey
        FOREIGN KEY (influencer_id) REFERENCES ads.influencers (id),
    CONSTRAINT ad_placements_cost_model_check CHECK (cost_model IN ('cpm', 'cpc', 'cpa', 'flat')),
    CONSTRAINT ad_placements_unit_cost_check CHECK (unit_cost >= 0),
    CONSTRAINT ad_placements_ends_after_starts_check
        CHECK (starts_at IS NULL OR ends_at IS NULL OR ends_at > starts_at)
);

-- One live placement per ad, channel and influencer, where "no influencer" counts as one value
-- (NULLS NOT DISTINCT, PostgreSQL 15; SQL Server unique indexes already treat NULLs as equal).
CREATE UNIQUE INDEX ad_placements_ad_id_channel_id_influencer_id_key
    ON ads.ad_placements (ad_id, channel_id, influencer_id) NULLS NOT DISTINCT
    WHERE deleted_at IS NULL;
-- Foreign keys over all rows (the unique index above skips tombstones).
CREATE INDEX ad_placements_ad_id_idx ON ads.ad_placements (ad_id);
CREATE INDEX ad_placements_channel_id_idx ON ads.ad_placements (channel_id);
CREATE INDEX ad_placements_influencer_id_idx ON ads.ad_placements (influencer_id);
CREATE INDEX ad_placements_updated_at_id_idx ON ads.ad_placements (updated_at, id);

CREATE TRIGGER ad_placements_touch_updated_at
    BEFORE INSERT OR UPDATE ON ads.ad_placements
    FOR EACH ROW EXECUTE FUNCTION ads.touch_updated_at();

COMMENT ON TABLE ads.ad_placements IS
    'Where an ad runs: a channel, optionally through an influencer, and what it costs there.';
COMMENT ON COLUMN ads.ad_placements.unit_cost IS
    'USD per unit of cost_model: per 1000 views (cpm), per click (cpc), per sale (cpa), or the whole placement (flat).';
COMMENT ON COLUMN ads.ad_placements.starts_at IS 'NULL: from the campaign start.';
COMMENT ON COLUMN ads.ad_placements.ends_at IS 'NULL: until the campaign end.';

-- =================================================================================================
-- Results: daily facts per ad, channel, market; sentiment per ad, channel
-- =================================================================================================
-- Loaded by upsert on the primary key (a re-delivered day overwrites itself). campaign_id is
-- denormalised for per-campaign reports and kept honest by the (ad_id, campaign_id) foreign key
-- to ads. A retracted row (e.g. fraud) is tombstoned so the ETL subtracts it.

CREATE TABLE ads.ad_results (
    campaign_id    uuid          NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    ad_id          uuid          NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    channel_id     uuid          NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    market_id      uuid          NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    day            date          NOT NULL,
    likes          bigint        NOT NULL DEFAULT 0,
    views          bigint        NOT NULL DEFAULT 0,
    interactions   bigint        NOT NULL DEFAULT 0,
    sales          bigint        NOT NULL DEFAULT 0,
    exposure_hours numeric(12,2) NOT NULL DEFAULT 0,  -- SQL Server: DECIMAL(12,2)
    reach          bigint        NOT NULL DEFAULT 0,
    cost           numeric(14,2) NOT NULL DEFAULT 0,  -- SQL Server: DECIMAL(14,2)
    revenue        numeric(14,2) NOT NULL DEFAULT 0,  -- SQL Server: DECIMAL(14,2)
    created_at     timestamptz   NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    updated_at     timestamptz   NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    deleted_at     timestamptz,                                       -- SQL Server: DATETIMEOFFSET(3)
    CONSTRAINT ad_results_pkey PRIMARY KEY (ad_id, channel_id, market_id, day),  -- SQL Server: CLUSTERED
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

-- Per-campaign reports by day read only this index (index-only scan); deleted_at is included so
-- tombstoned rows are filtered without a heap visit. Also covers the campaign foreign key.
CREATE INDEX ad_results_campaign_id_day_idx
    ON ads.ad_results (campaign_id, day)
    INCLUDE (likes, views, interactions, sales, exposure_hours, reach, cost, revenue, deleted_at);
-- Covers the (ad_id, campaign_id) foreign key.
CREATE INDEX ad_results_ad_id_campaign_id_idx ON ads.ad_results (ad_id, campaign_id);
-- Cover the channel and market foreign keys and serve per-channel / per-market reports by day.
CREATE INDEX ad_results_channel_id_day_idx ON ads.ad_results (channel_id, day);
CREATE INDEX ad_results_market_id_day_idx ON ads.ad_results (market_id, day);
CREATE INDEX ad_results_updated_at_ad_id_channel_id_market_id_day_idx
    ON ads.ad_results (updated_at, ad_id, channel_id, market_id, day);

CREATE TRIGGER ad_results_touch_updated_at
    BEFORE INSERT OR UPDATE ON ads.ad_results
    FOR EACH ROW EXECUTE FUNCTION ads.touch_updated_at();

COMMENT ON TABLE ads.ad_results IS
    'Daily results; grain: one row per ad, channel, market and day (the market''s calendar day).';
COMMENT ON COLUMN ads.ad_results.campaign_id IS
    'Denormalised from ads.campaign_id (enforced by ad_results_ad_id_campaign_id_fkey).';
COMMENT ON COLUMN ads.ad_results.views IS 'Impressions; >= interactions >= sales, and >= reach.';
COMMENT ON COLUMN ads.ad_results.likes IS 'Likes are interactions, so likes <= interactions.';
COMMENT ON COLUMN ads.ad_results.reach IS 'Distinct people who saw the ad that day; <= views.';
COMMENT ON COLUMN ads.ad_results.cost IS 'Spend in USD.';
COMMENT ON COLUMN ads.ad_results.revenue IS 'Attributed revenue in USD.';

CREATE TABLE ads.sentiment_samples (
    campaign_id          uuid         NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    ad_id                uuid         NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    channel_id           uuid         NOT NULL,  -- SQL Server: UNIQUEIDENTIFIER
    day                  date         NOT NULL,
    polarity             numeric(4,3) NOT NULL,  -- SQL Server: DECIMAL(4,3)
    positive_count       integer      NOT NULL DEFAULT 0,  -- SQL Server: INT
    neutral_count        integer      NOT NULL DEFAULT 0,  -- SQL Server: INT
    negative_count       integer      NOT NULL DEFAULT 0,  -- SQL Server: INT
    negative_type        text,                   -- SQL Server: VARCHAR(16)
    influencer_reactions integer      NOT NULL DEFAULT 0,  -- SQL Server: INT
    created_at           timestamptz  NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    updated_at           timestamptz  NOT NULL DEFAULT clock_timestamp(),  -- SQL Server: DATETIMEOFFSET(3)
    deleted_at           timestamptz,                                      -- SQL Server: DATETIMEOFFSET(3)
    CONSTRAINT sentiment_samples_pkey PRIMARY KEY (ad_id, channel_id, day),  -- SQL Server: CLUSTERED
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
               OR negative_type IN ('offensive', 'misleading', 'price', 'quality', 'service',
                                    'spam', 'other')),
    -- The dominant negative type is named only when there were negative mentions, and must be
    -- named when the day's sentiment is negative overall.
    CONSTRAINT sentiment_samples_negative_type_needs_mentions_check
        CHECK (negative_type IS NULL OR negative_count > 0),
    CONSTRAINT sentiment_samples_negative_polarity_needs_type_check
        CHECK (polarity >= 0 OR negative_type IS NOT NULL)
);

-- Per-campaign sentiment by day from the index alone; also covers the campaign foreign key.
CREATE INDEX sentiment_samples_campaign_id_day_idx
    ON ads.sentiment_samples (campaign_id, day)
    INCLUDE (polarity, positive_count, neutral_count, negative_count, negative_type,
             influencer_reactions, deleted_at);
CREATE INDEX sentiment_samples_ad_id_campaign_id_idx ON ads.sentiment_samples (ad_id, campaign_id);
CREATE INDEX sentiment_samples_channel_id_day_idx ON ads.sentiment_samples (channel_id, day);
CREATE INDEX sentiment_samples_updated_at_ad_id_channel_id_day_idx
    ON ads.sentiment_samples (updated_at, ad_id, channel_id, day);

CREATE TRIGGER sentiment_samples_touch_updated_at
    BEFORE INSERT OR UPDATE ON ads.sentiment_samples
    FOR EACH ROW EXECUTE FUNCTION ads.touch_updated_at();

COMMENT ON TABLE ads.sentiment_samples IS
    'Daily audience sentiment; grain: one row per ad, channel and day.';
COMMENT ON COLUMN ads.sentiment_samples.polarity IS 'Net sentiment in [-1, 1].';
COMMENT ON COLUMN ads.sentiment_samples.negative_type IS
    'Dominant negative sentiment type: NULL when there were no negative mentions; required when polarity < 0.';
COMMENT ON COLUMN ads.sentiment_samples.influencer_reactions IS
    'Reactions (posts, replies) by influencers about the ad that day.';

-- =================================================================================================
-- Parameter types for the future ads.create_campaign function (twins of the SQL Server
-- table-valued parameter types ads.CampaignChannelList, ads.CampaignMarketList, ads.CampaignAdList)
-- =================================================================================================
-- Passed as arrays (ads.campaign_channel_item[] ...). Composite types cannot carry NOT NULL or
-- CHECK, so the function validates what the SQL Server table types declare; the table constraints
-- above are the last line of defence either way.

CREATE TYPE ads.campaign_channel_item AS (
    channel_code text,          -- SQL Server: VARCHAR(40) NOT NULL, primary key of the list
    budget_share numeric(5,4)   -- SQL Server: DECIMAL(5,4) NOT NULL, CHECK in (0, 1]
);

CREATE TYPE ads.campaign_market_item AS (
    market_code text            -- SQL Server: VARCHAR(8) NOT NULL, primary key of the list
);

CREATE TYPE ads.campaign_ad_item AS (
    ad_id            uuid,      -- SQL Server: UNIQUEIDENTIFIER NOT NULL, primary key of the list
    name             text,      -- SQL Server: NVARCHAR(200) NOT NULL
    format           text,      -- SQL Server: VARCHAR(16) NOT NULL
    headline         text,      -- SQL Server: NVARCHAR(200)
    body             text,      -- SQL Server: NVARCHAR(2000)
    call_to_action   text,      -- SQL Server: NVARCHAR(60)
    landing_url      text,      -- SQL Server: NVARCHAR(2000)
    content_image_id uuid       -- SQL Server: UNIQUEIDENTIFIER NULL
);

COMMENT ON TYPE ads.campaign_channel_item IS 'One channel of a campaign being created, by code.';
COMMENT ON TYPE ads.campaign_market_item IS 'One market of a campaign being created, by code.';
COMMENT ON TYPE ads.campaign_ad_item IS 'One ad of a campaign being created (id from the caller).';
