-- PromptAds (schema ads), migration 0005: idempotency keys belong to one organization.
-- PostgreSQL twin of sql/ads/mssql/0005_idempotency_key_per_organization.sql.
--
-- Until now a key was unique across the whole store, so one tenant could take a key another
-- tenant was about to use (its request then failed as "reused"), and the conflict itself told
-- the caller that some other organization had used that key. The key now names a request within
-- the campaign's organization: the unique index is (organization_id, idempotency_key), and
-- ads.pradssp_create_campaign looks the key up, and serialises retries, within the organization
-- it is creating the campaign for. Everything else in the function is as 0002 wrote it.
--
-- Existing rows satisfy the new index: keys that were unique store-wide are unique per
-- organization. The new index is built before the old one is dropped, so keys stay guarded.

CREATE UNIQUE INDEX campaigns_organization_idempotency_key_key
    ON ads.campaigns (organization_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

DROP INDEX ads.campaigns_idempotency_key_key;

CREATE OR REPLACE FUNCTION ads.pradssp_create_campaign(
    p_campaign_id     uuid,
    p_organization_id uuid,  -- the caller's organization; NULL (staff): the brand's organization
    p_brand_id        uuid,
    p_product_id      uuid,
    p_name            text,
    p_description     text,
    p_objective       text,
    p_budget          numeric,
    p_currency        text,
    p_starts_at       timestamptz,
    p_ends_at         timestamptz,
    p_idempotency_key text,
    p_created_by      uuid,
    p_channels        ads.campaign_channel_item[],
    p_markets         ads.campaign_market_item[],
    p_ads             ads.campaign_ad_item[]
) RETURNS TABLE (campaign_id uuid, replayed boolean)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_org      uuid;
    v_key_org  uuid;
    v_existing ads.campaigns%ROWTYPE;
    v_bad      text;
    v_sum      numeric;
BEGIN
    p_channels := COALESCE(p_channels, '{}');
    p_markets := COALESCE(p_markets, '{}');
    p_ads := COALESCE(p_ads, '{}');

    -- 1. Idempotency. A key names one request of one organization: the same request again gets
    --    the campaign it made, a different one is refused. The organization is the caller's, or
    --    for staff the brand's, so one tenant's keys never touch another's. Without a known
    --    organization (staff naming an unknown brand) there is nothing to replay, and step 3
    --    refuses the brand. A deleted campaign is not resurrected.
    IF p_idempotency_key IS NOT NULL THEN
        IF p_idempotency_key !~ '^[!-~]{1,200}$' THEN
            RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'idempotencyKey', HINT = 'format',
                MESSAGE = 'an idempotency key is 1 to 200 printable ASCII characters without spaces';
        END IF;
        v_key_org := COALESCE(p_organization_id,
                              (SELECT b.organization_id FROM ads.brands b WHERE b.id = p_brand_id));
    END IF;
    IF v_key_org IS NOT NULL THEN
        -- Serialises concurrent retries of one key: the second waits, then finds the first's row.
        PERFORM pg_advisory_xact_lock(hashtextextended(
            'ads.campaigns.idempotency_key:' || v_key_org::text || ':' || p_idempotency_key, 0));
        SELECT * INTO v_existing FROM ads.campaigns c
        WHERE c.organization_id = v_key_org AND c.idempotency_key = p_idempotency_key;
        IF FOUND THEN
            IF v_existing.deleted_at IS NULL
               AND v_existing.brand_id = p_brand_id
               AND v_existing.product_id IS NOT DISTINCT FROM p_product_id
               AND v_existing.name = p_name
               AND v_existing.description IS NOT DISTINCT FROM p_description
               AND v_existing.objective = p_objective
               AND v_existing.budget = p_budget
               AND v_existing.currency::text = p_currency
               AND v_existing.starts_at = p_starts_at
               AND v_existing.ends_at = p_ends_at
               AND NOT EXISTS (
                   (SELECT ch.code, cc.budget_share
                    FROM ads.campaign_channels cc JOIN ads.channels ch ON ch.id = cc.channel_id
                    WHERE cc.campaign_id = v_existing.id AND cc.deleted_at IS NULL
                    EXCEPT SELECT x.channel_code, x.budget_share FROM unnest(p_channels) x)
                   UNION ALL
                   (SELECT x.channel_code, x.budget_share FROM unnest(p_channels) x
                    EXCEPT SELECT ch.code, cc.budget_share
                    FROM ads.campaign_channels cc JOIN ads.channels ch ON ch.id = cc.channel_id
                    WHERE cc.campaign_id = v_existing.id AND cc.deleted_at IS NULL))
               AND NOT EXISTS (
                   (SELECT m.code FROM ads.campaign_markets cm JOIN ads.markets m ON m.id = cm.market_id
                    WHERE cm.campaign_id = v_existing.id AND cm.deleted_at IS NULL
                    EXCEPT SELECT x.market_code FROM unnest(p_markets) x)
                   UNION ALL
                   (SELECT x.market_code FROM unnest(p_markets) x
                    EXCEPT SELECT m.code FROM ads.campaign_markets cm JOIN ads.markets m ON m.id = cm.market_id
                    WHERE cm.campaign_id = v_existing.id AND cm.deleted_at IS NULL))
               -- Ads are compared without their ids: a retry carries new ones.
               AND NOT EXISTS (
                   (SELECT a.name, a.format, a.headline, a.body, a.call_to_action, a.landing_url, a.content_image_id
                    FROM ads.ads a WHERE a.campaign_id = v_existing.id AND a.deleted_at IS NULL
                    EXCEPT SELECT x.name, x.format, x.headline, x.body, x.call_to_action, x.landing_url,
                                  x.content_image_id
                    FROM unnest(p_ads) x)
                   UNION ALL
                   (SELECT x.name, x.format, x.headline, x.body, x.call_to_action, x.landing_url, x.content_image_id
                    FROM unnest(p_ads) x
                    EXCEPT SELECT a.name, a.format, a.headline, a.body, a.call_to_action, a.landing_url,
                                  a.content_image_id
                    FROM ads.ads a WHERE a.campaign_id = v_existing.id AND a.deleted_at IS NULL))
            THEN
                RETURN QUERY SELECT v_existing.id, true;
                RETURN;
            END IF;
            RAISE EXCEPTION USING ERRCODE = 'PA409', DETAIL = 'idempotencyKey', HINT = 'reused',
                MESSAGE = 'this idempotency key was already used for a different request';
        END IF;
    END IF;

    -- 2. The campaign's own fields.
    IF p_name IS NULL OR btrim(p_name) = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'name', HINT = 'required',
            MESSAGE = 'a campaign needs a name';
    END IF;
    IF char_length(p_name) > 200 THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'name', HINT = 'max_length',
            MESSAGE = 'a campaign name has at most 200 characters';
    END IF;
    IF char_length(p_description) > 4000 THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'description', HINT = 'max_length',
            MESSAGE = 'a description has at most 4000 characters';
    END IF;
    IF p_objective IS NULL OR p_objective NOT IN ('awareness', 'traffic', 'engagement', 'leads', 'sales') THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'objective', HINT = 'enum',
            MESSAGE = format('unknown objective %s', p_objective);
    END IF;
    IF p_budget IS NULL OR p_budget <= 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'budget', HINT = 'positive',
            MESSAGE = 'the budget must be greater than zero';
    END IF;
    IF p_budget >= 1000000000000 THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'budget', HINT = 'max',
            MESSAGE = 'the budget must be below 1,000,000,000,000';
    END IF;
    IF p_budget <> round(p_budget, 2) THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'budget', HINT = 'scale',
            MESSAGE = 'the budget has at most 2 decimals';
    END IF;
    IF p_currency IS NULL OR p_currency !~ '^[A-Z]{3}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'currency', HINT = 'format',
            MESSAGE = 'a currency is an ISO 4217 code such as USD';
    END IF;
    IF p_starts_at IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'startsAt', HINT = 'required',
            MESSAGE = 'a campaign needs a start';
    END IF;
    IF p_ends_at IS NULL OR p_ends_at <= p_starts_at THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'endsAt', HINT = 'after_start',
            MESSAGE = 'a campaign must end after it starts';
    END IF;

    -- 3. Brand and product: the brand must belong to the caller's organization (staff: any),
    --    and the product to the brand.
    SELECT b.organization_id INTO v_org FROM ads.brands b
    WHERE b.id = p_brand_id AND b.deleted_at IS NULL
      AND (p_organization_id IS NULL OR b.organization_id = p_organization_id);
    IF v_org IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'brandId', HINT = 'not_found',
            MESSAGE = 'no such brand in this organization';
    END IF;
    IF p_product_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM ads.products p WHERE p.id = p_product_id AND p.brand_id = p_brand_id AND p.deleted_at IS NULL)
    THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'productId', HINT = 'not_found',
            MESSAGE = 'no such product of this brand';
    END IF;

    -- 4. Channels: at least one, known and live, each listed once, shares in (0, 1] summing to <= 1.
    --    (The SQL Server table type declares NOT NULL, the key and the range; composites cannot.)
    IF cardinality(p_channels) = 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'channels', HINT = 'min_items',
            MESSAGE = 'a campaign runs on at least one channel';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(p_channels) x WHERE x.channel_code IS NULL OR x.budget_share IS NULL) THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'channels', HINT = 'required',
            MESSAGE = 'each channel needs a code and a budget share';
    END IF;
    SELECT x.channel_code INTO v_bad FROM unnest(p_channels) x
    GROUP BY x.channel_code HAVING count(*) > 1 ORDER BY x.channel_code LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'channels', HINT = 'duplicate_code',
            MESSAGE = format('channel %s is listed twice', v_bad);
    END IF;
    SELECT x.channel_code INTO v_bad FROM unnest(p_channels) x
    WHERE NOT EXISTS (SELECT 1 FROM ads.channels ch WHERE ch.code = x.channel_code AND ch.deleted_at IS NULL)
    ORDER BY x.channel_code LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'channels', HINT = 'unknown_code',
            MESSAGE = format('unknown channel code %s', v_bad);
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(p_channels) x WHERE x.budget_share <= 0 OR x.budget_share > 1) THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'channels.budgetShare', HINT = 'range',
            MESSAGE = 'a budget share is a fraction in (0, 1]';
    END IF;
    SELECT sum(x.budget_share) INTO v_sum FROM unnest(p_channels) x;
    IF v_sum > 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'channels', HINT = 'budget_share_sum',
            MESSAGE = format('the budget shares add up to %s, more than 1', v_sum);
    END IF;

    -- 5. Markets: known and live, each listed once (none is allowed: a campaign may be global).
    IF EXISTS (SELECT 1 FROM unnest(p_markets) x WHERE x.market_code IS NULL) THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'markets', HINT = 'required',
            MESSAGE = 'each market needs a code';
    END IF;
    SELECT x.market_code INTO v_bad FROM unnest(p_markets) x
    GROUP BY x.market_code HAVING count(*) > 1 ORDER BY x.market_code LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'markets', HINT = 'duplicate_code',
            MESSAGE = format('market %s is listed twice', v_bad);
    END IF;
    SELECT x.market_code INTO v_bad FROM unnest(p_markets) x
    WHERE NOT EXISTS (SELECT 1 FROM ads.markets m WHERE m.code = x.market_code AND m.deleted_at IS NULL)
    ORDER BY x.market_code LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'markets', HINT = 'unknown_code',
            MESSAGE = format('unknown market code %s', v_bad);
    END IF;

    -- 6. Ads.
    IF EXISTS (SELECT 1 FROM unnest(p_ads) x WHERE x.ad_id IS NULL) THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'ads', HINT = 'required',
            MESSAGE = 'each ad needs an id';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(p_ads) x GROUP BY x.ad_id HAVING count(*) > 1)
       OR EXISTS (SELECT 1 FROM unnest(p_ads) x JOIN ads.ads a ON a.id = x.ad_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'ads', HINT = 'duplicate_id',
            MESSAGE = 'each ad needs an id of its own';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(p_ads) x WHERE x.name IS NULL OR btrim(x.name) = '') THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'ads.name', HINT = 'required',
            MESSAGE = 'each ad needs a name';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(p_ads) x WHERE char_length(x.name) > 200) THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'ads.name', HINT = 'max_length',
            MESSAGE = 'an ad name has at most 200 characters';
    END IF;
    SELECT x.format INTO v_bad FROM unnest(p_ads) x
    WHERE x.format IS NULL OR x.format NOT IN ('image', 'video', 'carousel', 'story', 'text')
    ORDER BY x.format LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'ads.format', HINT = 'enum',
            MESSAGE = format('unknown ad format %s', v_bad);
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(p_ads) x
               WHERE char_length(x.headline) > 200 OR char_length(x.body) > 2000
                  OR char_length(x.call_to_action) > 60) THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'ads', HINT = 'max_length',
            MESSAGE = 'an ad has a headline of at most 200, a body of at most 2000 and a call to action of at most 60 characters';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(p_ads) x WHERE x.format = 'text' AND (x.headline IS NULL OR x.body IS NULL)) THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'ads.headline', HINT = 'required_for_text',
            MESSAGE = 'a text ad needs a headline and a body';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(p_ads) x
               WHERE x.landing_url IS NOT NULL
                 AND (char_length(x.landing_url) > 2000 OR x.landing_url !~* '^https?://[^ ]+$')) THEN
        RAISE EXCEPTION USING ERRCODE = 'PA001', DETAIL = 'ads.landingUrl', HINT = 'url',
            MESSAGE = 'a landing URL is an http or https URL without spaces';
    END IF;

    -- 7. Write: the campaign (a draft, version 1), then its links and ads.
    INSERT INTO ads.campaigns (id, organization_id, brand_id, product_id, name, description, objective, status,
                               budget, currency, starts_at, ends_at, version, idempotency_key, created_by)
    VALUES (p_campaign_id, v_org, p_brand_id, p_product_id, p_name, p_description, p_objective, 'draft',
            p_budget, p_currency, p_starts_at, p_ends_at, 1, p_idempotency_key, p_created_by);
    INSERT INTO ads.campaign_channels (campaign_id, channel_id, budget_share)
    SELECT p_campaign_id, ch.id, x.budget_share FROM unnest(p_channels) x JOIN ads.channels ch ON ch.code = x.channel_code;
    INSERT INTO ads.campaign_markets (campaign_id, market_id)
    SELECT p_campaign_id, m.id FROM unnest(p_markets) x JOIN ads.markets m ON m.code = x.market_code;
    INSERT INTO ads.ads (id, campaign_id, name, format, headline, body, call_to_action, landing_url,
                         content_image_id, status)
    SELECT x.ad_id, p_campaign_id, x.name, x.format, x.headline, x.body, x.call_to_action, x.landing_url,
           x.content_image_id, 'draft'
    FROM unnest(p_ads) x;

    RETURN QUERY SELECT p_campaign_id, false;
END;
$$;

COMMENT ON FUNCTION ads.pradssp_create_campaign(uuid, uuid, uuid, uuid, text, text, text, numeric, text, timestamptz,
                                                timestamptz, text, uuid, ads.campaign_channel_item[],
                                                ads.campaign_market_item[], ads.campaign_ad_item[]) IS
    'Creates a draft campaign with its channels, markets and ads in one transaction; idempotent by key within the organization. '
    'Raises PA001 (DETAIL field, HINT rule) on invalid input and PA409 when the key was used for another request.';

COMMENT ON COLUMN ads.campaigns.idempotency_key IS
    'Client key of the create request (printable ASCII, no spaces); unique within the organization when present.';
