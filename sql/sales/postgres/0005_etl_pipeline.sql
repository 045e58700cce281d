-- =============================================================================
-- The ETL pipeline (issue #15, the n8n workflow in etl/): where the gateway's
-- change feeds land, the copy of the source rows the summaries are computed
-- from, the channel and market breakdowns, and the three steps the workflow
-- calls: begin a run, apply what it staged, record a failure.
--
-- Why a copy of the source rows (etl_src_*): the feeds deliver the current
-- state of each changed row, not a difference. Adding a changed row's figures
-- to a total would count it twice; keeping the rows keyed as in the source and
-- recomputing the totals of the campaigns a run touched is idempotent, so a
-- rerun after a crash converges to the same summaries.
-- =============================================================================

-- The keyset position of the last row consumed: the feed's own cursor of that
-- row, i.e. its (updatedAt, key). `watermark` keeps that row's updated_at.
ALTER TABLE sales.etl_watermarks ADD COLUMN last_cursor text;
COMMENT ON COLUMN sales.etl_watermarks.last_cursor IS
    'The feed cursor of the last row consumed (its updatedAt and key); the next run reads after it.';

-- The feeds the pipeline reads, so the watermark step always finds a row per feed.
INSERT INTO sales.etl_watermarks (source) VALUES
    ('ads.campaigns'), ('ads.campaign_channels'), ('ads.campaign_markets'),
    ('ads.ad_results'), ('ads.sentiment_samples'), ('crm.campaign_customers');

ALTER TABLE sales.etl_runs
    ADD COLUMN cutoff         timestamptz,
    ADD COLUMN caught_up      boolean,
    ADD COLUMN rows_by_source jsonb NOT NULL DEFAULT '{}';
COMMENT ON COLUMN sales.etl_runs.cutoff IS
    'now() minus the safety lag at the start: rows changed after it wait for the next run, so a '
    'transaction that commits late with an earlier updated_at is still read.';
COMMENT ON COLUMN sales.etl_runs.caught_up IS
    'false when a feed had more rows up to the cutoff than the run''s page limit; the next run goes on.';
COMMENT ON COLUMN sales.etl_runs.rows_by_source IS
    '{"ads.ad_results": {"read": n, "changed": m}, ...}: rows read from each feed and source rows that changed.';

ALTER TABLE sales.campaign_summaries
    ADD COLUMN first_day date,
    ADD COLUMN last_day  date;
COMMENT ON COLUMN sales.campaign_summaries.first_day IS 'First UTC day with ad results (NULL before any).';
COMMENT ON COLUMN sales.campaign_summaries.last_day IS 'Last UTC day with ad results.';

-- -----------------------------------------------------------------------------
-- Landing: one row per page of a feed, as the gateway sent it. Unlogged: a
-- crash loses only pages of a run that is then redone.
-- -----------------------------------------------------------------------------
CREATE UNLOGGED TABLE sales.etl_stage (
    seq       bigint      GENERATED ALWAYS AS IDENTITY,
    run_id    uuid        NOT NULL,
    source    text        NOT NULL,
    page      jsonb       NOT NULL,
    staged_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT etl_stage_pkey PRIMARY KEY (seq),
    CONSTRAINT etl_stage_page_check CHECK (jsonb_typeof(page -> 'edges') = 'array')
);
CREATE INDEX etl_stage_run_id_source_seq_idx ON sales.etl_stage (run_id, source, seq);
COMMENT ON TABLE sales.etl_stage IS
    'Pages of the gateway''s change feeds ({edges: [{cursor, node}], pageInfo}) landed by a run; '
    'emptied when the run is applied or found dead.';

-- -----------------------------------------------------------------------------
-- The source rows, keyed as in their store (tombstones kept: a late older
-- version never resurrects a deleted row).
-- -----------------------------------------------------------------------------
CREATE TABLE sales.etl_src_campaigns (
    campaign_id     uuid          NOT NULL,
    organization_id uuid          NOT NULL,
    brand_id        uuid          NOT NULL,
    product_id      uuid,
    name            text          NOT NULL,
    status          text          NOT NULL,
    starts_at       timestamptz   NOT NULL,
    ends_at         timestamptz   NOT NULL,
    budget          numeric(14,2) NOT NULL,
    updated_at      timestamptz   NOT NULL,
    deleted_at      timestamptz,
    CONSTRAINT etl_src_campaigns_pkey PRIMARY KEY (campaign_id)
);

CREATE TABLE sales.etl_src_campaign_channels (
    campaign_id  uuid        NOT NULL,
    channel_id   uuid        NOT NULL,
    channel_code text        NOT NULL,
    updated_at   timestamptz NOT NULL,
    deleted_at   timestamptz,
    CONSTRAINT etl_src_campaign_channels_pkey PRIMARY KEY (campaign_id, channel_id)
);

CREATE TABLE sales.etl_src_campaign_markets (
    campaign_id uuid        NOT NULL,
    market_id   uuid        NOT NULL,
    market_code text        NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz,
    CONSTRAINT etl_src_campaign_markets_pkey PRIMARY KEY (campaign_id, market_id)
);

CREATE TABLE sales.etl_src_ad_results (
    ad_id        uuid          NOT NULL,
    channel_id   uuid          NOT NULL,
    market_id    uuid          NOT NULL,
    day          date          NOT NULL,
    campaign_id  uuid          NOT NULL,
    channel_code text          NOT NULL,
    market_code  text          NOT NULL,
    reach        bigint        NOT NULL,
    views        bigint        NOT NULL,
    interactions bigint        NOT NULL,
    likes        bigint        NOT NULL,
    sales        bigint        NOT NULL,
    cost         numeric(14,2) NOT NULL,
    revenue      numeric(14,2) NOT NULL,
    updated_at   timestamptz   NOT NULL,
    deleted_at   timestamptz,
    CONSTRAINT etl_src_ad_results_pkey PRIMARY KEY (ad_id, channel_id, market_id, day)
);
-- Recomputing a campaign reads all its rows.
CREATE INDEX etl_src_ad_results_campaign_id_idx ON sales.etl_src_ad_results (campaign_id);

CREATE TABLE sales.etl_src_sentiment_samples (
    ad_id       uuid        NOT NULL,
    channel_id  uuid        NOT NULL,
    day         date        NOT NULL,
    campaign_id uuid        NOT NULL,
    positive    bigint      NOT NULL,
    negative    bigint      NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz,
    CONSTRAINT etl_src_sentiment_samples_pkey PRIMARY KEY (ad_id, channel_id, day)
);
CREATE INDEX etl_src_sentiment_samples_campaign_id_idx ON sales.etl_src_sentiment_samples (campaign_id);

CREATE TABLE sales.etl_src_campaign_customers (
    campaign_id uuid        NOT NULL,
    customer_id uuid        NOT NULL,
    reached     boolean     NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz,
    CONSTRAINT etl_src_campaign_customers_pkey PRIMARY KEY (campaign_id, customer_id)
);

COMMENT ON TABLE sales.etl_src_ad_results IS
    'Copy of ads.ad_results as read through adResultsUpdatedSince (ETL); the summaries are computed from it.';

-- -----------------------------------------------------------------------------
-- Breakdowns by channel and by market (lifetime totals per campaign).
-- -----------------------------------------------------------------------------
CREATE TABLE sales.campaign_channel_metrics (
    campaign_id     uuid          NOT NULL,
    channel         text          NOT NULL,
    organization_id uuid          NOT NULL,
    reach           bigint        NOT NULL,
    views           bigint        NOT NULL,
    interactions    bigint        NOT NULL,
    likes           bigint        NOT NULL,
    sales_count     bigint        NOT NULL,
    revenue         numeric(14,2) NOT NULL,
    cost            numeric(14,2) NOT NULL,
    refreshed_at    timestamptz   NOT NULL,
    updated_at      timestamptz   NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT campaign_channel_metrics_pkey PRIMARY KEY (campaign_id, channel),
    CONSTRAINT campaign_channel_metrics_campaign_fkey FOREIGN KEY (campaign_id, organization_id)
        REFERENCES sales.campaign_summaries (campaign_id, organization_id) ON DELETE CASCADE
);
CREATE INDEX campaign_channel_metrics_campaign_id_organization_id_idx
    ON sales.campaign_channel_metrics (campaign_id, organization_id);

CREATE TABLE sales.campaign_market_metrics (
    campaign_id     uuid          NOT NULL,
    market          text          NOT NULL,
    organization_id uuid          NOT NULL,
    reach           bigint        NOT NULL,
    views           bigint        NOT NULL,
    interactions    bigint        NOT NULL,
    likes           bigint        NOT NULL,
    sales_count     bigint        NOT NULL,
    revenue         numeric(14,2) NOT NULL,
    cost            numeric(14,2) NOT NULL,
    refreshed_at    timestamptz   NOT NULL,
    updated_at      timestamptz   NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT campaign_market_metrics_pkey PRIMARY KEY (campaign_id, market),
    CONSTRAINT campaign_market_metrics_campaign_fkey FOREIGN KEY (campaign_id, organization_id)
        REFERENCES sales.campaign_summaries (campaign_id, organization_id) ON DELETE CASCADE
);
CREATE INDEX campaign_market_metrics_campaign_id_organization_id_idx
    ON sales.campaign_market_metrics (campaign_id, organization_id);

COMMENT ON TABLE sales.campaign_channel_metrics IS 'Lifetime totals of a campaign on one channel (ETL, from ad results).';
COMMENT ON TABLE sales.campaign_market_metrics IS 'Lifetime totals of a campaign in one market (ETL, from ad results).';

-- -----------------------------------------------------------------------------
-- Begin: the run row, and the cutoff. A run row still `running` when a new run
-- holds the lock belongs to a run that died: it is closed as failed and its
-- pages dropped (nothing of it was applied: apply is one transaction).
-- -----------------------------------------------------------------------------
CREATE FUNCTION sales.etl_begin(p_pipeline text, p_lag_secs integer, p_host text)
RETURNS TABLE (run_id uuid, cutoff timestamptz, cutoff_text text)
LANGUAGE plpgsql
AS $$
DECLARE
    v_id     uuid := gen_random_uuid();
    v_cutoff timestamptz;
BEGIN
    IF p_lag_secs IS NULL OR p_lag_secs < 0 OR p_lag_secs > 86400 THEN
        RAISE EXCEPTION 'etl: the safety lag must be 0 to 86400 seconds, not %', p_lag_secs
            USING ERRCODE = '22023';
    END IF;
    UPDATE sales.etl_runs r
       SET status = 'failed', finished_at = greatest(clock_timestamp(), r.started_at),
           error = 'the run did not finish (killed or crashed); found by run ' || v_id
     WHERE r.pipeline = p_pipeline AND r.status = 'running';
    DELETE FROM sales.etl_stage s
     WHERE NOT EXISTS (SELECT 1 FROM sales.etl_runs r WHERE r.id = s.run_id AND r.status = 'running');
    v_cutoff := now() - make_interval(secs => p_lag_secs);
    INSERT INTO sales.etl_runs (id, pipeline, started_at, status, host, cutoff)
    VALUES (v_id, p_pipeline, now(), 'running', left(p_host, 255), v_cutoff);
    RETURN QUERY SELECT v_id, v_cutoff,
        to_char(v_cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
END;
$$;

-- -----------------------------------------------------------------------------
-- Fail: closes the run with its error (the workflow's error branch calls it).
-- -----------------------------------------------------------------------------
CREATE FUNCTION sales.etl_fail(p_run_id uuid, p_error text)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    v_error text := left(coalesce(nullif(btrim(p_error), ''), 'unknown error'), 2000);
BEGIN
    DELETE FROM sales.etl_stage WHERE run_id = p_run_id;
    UPDATE sales.etl_runs
       SET status = 'failed', finished_at = greatest(clock_timestamp(), started_at), error = v_error
     WHERE id = p_run_id AND status = 'running';
    RETURN v_error;
END;
$$;

-- -----------------------------------------------------------------------------
-- Apply: one transaction (one function call) that
--   1. merges the run's staged rows up to the cutoff into the source copies
--      (newest version per key; an older version never overwrites a newer one),
--   2. recomputes, set-based, the summaries, daily metrics and breakdowns of
--      the campaigns whose source rows changed, writing only rows whose figures
--      differ (so updated_at and the cache tags move on real changes only),
--   3. moves each feed's watermark to the last row it consumed,
--   4. closes the run with its counts, and returns the changed campaigns.
-- A crash before the commit leaves everything as it was; the next run redoes it.
-- -----------------------------------------------------------------------------
CREATE FUNCTION sales.etl_apply(p_run_id uuid)
RETURNS TABLE (changed_campaigns uuid[], rows_read bigint, rows_written bigint, caught_up boolean)
LANGUAGE plpgsql
-- The temporary tables are dropped first in case of an earlier call in the same session: quietly.
SET client_min_messages = warning
AS $$
DECLARE
    v_cutoff    timestamptz;
    v_started   timestamptz;
    v_affected  uuid[];
    v_changed   uuid[];
    v_by_source jsonb := '{}';
    v_read      bigint;
    v_n         bigint;
    v_written   bigint := 0;
    v_caught_up boolean;
    v_wm_from   timestamptz;
    v_wm_to     timestamptz;
    v_source    text;
BEGIN
    SELECT r.cutoff, r.started_at INTO v_cutoff, v_started
      FROM sales.etl_runs r WHERE r.id = p_run_id AND r.status = 'running' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'etl: run % is not running (unknown, finished, or closed by a later run)', p_run_id
            USING ERRCODE = '55000';
    END IF;

    DROP TABLE IF EXISTS pg_temp.etl_rows, pg_temp.etl_touched, pg_temp.etl_changed, pg_temp.etl_totals;
    -- Every staged row of the run with its place in its feed.
    CREATE TEMP TABLE etl_rows ON COMMIT DROP AS
    SELECT s.source, s.seq, e.ord, e.edge ->> 'cursor' AS cursor, e.edge -> 'node' AS node,
           (e.edge -> 'node' ->> 'updatedAt')::timestamptz AS updated_at
      FROM sales.etl_stage s
     CROSS JOIN LATERAL jsonb_array_elements(s.page -> 'edges') WITH ORDINALITY AS e(edge, ord)
     WHERE s.run_id = p_run_id;
    CREATE TEMP TABLE etl_touched (source text NOT NULL, campaign_id uuid NOT NULL) ON COMMIT DROP;
    CREATE TEMP TABLE etl_changed (campaign_id uuid NOT NULL) ON COMMIT DROP;

    -- 1. Source copies. DISTINCT ON keeps the newest version of a key read twice in one run
    --    (a row that changed again while the feed was paged).
    WITH n AS (
        SELECT DISTINCT ON (k) (node ->> 'id')::uuid AS k, (node -> 'organization' ->> 'id')::uuid AS o,
               (node -> 'brand' ->> 'id')::uuid AS b, (node -> 'product' ->> 'id')::uuid AS p,
               node ->> 'name' AS name, lower(node ->> 'status') AS status,
               (node ->> 'startsAt')::timestamptz AS s, (node ->> 'endsAt')::timestamptz AS e,
               (node ->> 'budget')::numeric AS budget, updated_at, (node ->> 'deletedAt')::timestamptz AS d
          FROM etl_rows WHERE source = 'ads.campaigns' AND updated_at <= v_cutoff
         ORDER BY k, updated_at DESC
    ), up AS (
        INSERT INTO sales.etl_src_campaigns AS t
            (campaign_id, organization_id, brand_id, product_id, name, status, starts_at, ends_at, budget, updated_at, deleted_at)
        SELECT k, o, b, p, name, status, s, e, budget, updated_at, d FROM n
        ON CONFLICT (campaign_id) DO UPDATE
           SET organization_id = excluded.organization_id, brand_id = excluded.brand_id,
               product_id = excluded.product_id, name = excluded.name, status = excluded.status,
               starts_at = excluded.starts_at, ends_at = excluded.ends_at, budget = excluded.budget,
               updated_at = excluded.updated_at, deleted_at = excluded.deleted_at
         WHERE excluded.updated_at >= t.updated_at
           AND (t.organization_id, t.brand_id, t.product_id, t.name, t.status, t.starts_at, t.ends_at, t.budget, t.deleted_at)
               IS DISTINCT FROM (excluded.organization_id, excluded.brand_id, excluded.product_id, excluded.name,
                                 excluded.status, excluded.starts_at, excluded.ends_at, excluded.budget, excluded.deleted_at)
        RETURNING t.campaign_id
    )
    INSERT INTO etl_touched SELECT 'ads.campaigns', campaign_id FROM up;

    WITH n AS (
        SELECT DISTINCT ON (c, ch) (node ->> 'campaignId')::uuid AS c, (node -> 'channel' ->> 'id')::uuid AS ch,
               node -> 'channel' ->> 'code' AS code, updated_at, (node ->> 'deletedAt')::timestamptz AS d
          FROM etl_rows WHERE source = 'ads.campaign_channels' AND updated_at <= v_cutoff
         ORDER BY c, ch, updated_at DESC
    ), up AS (
        INSERT INTO sales.etl_src_campaign_channels AS t (campaign_id, channel_id, channel_code, updated_at, deleted_at)
        SELECT c, ch, code, updated_at, d FROM n
        ON CONFLICT (campaign_id, channel_id) DO UPDATE
           SET channel_code = excluded.channel_code, updated_at = excluded.updated_at, deleted_at = excluded.deleted_at
         WHERE excluded.updated_at >= t.updated_at
           AND (t.channel_code, t.deleted_at) IS DISTINCT FROM (excluded.channel_code, excluded.deleted_at)
        RETURNING t.campaign_id
    )
    INSERT INTO etl_touched SELECT 'ads.campaign_channels', campaign_id FROM up;

    WITH n AS (
        SELECT DISTINCT ON (c, m) (node ->> 'campaignId')::uuid AS c, (node -> 'market' ->> 'id')::uuid AS m,
               node -> 'market' ->> 'code' AS code, updated_at, (node ->> 'deletedAt')::timestamptz AS d
          FROM etl_rows WHERE source = 'ads.campaign_markets' AND updated_at <= v_cutoff
         ORDER BY c, m, updated_at DESC
    ), up AS (
        INSERT INTO sales.etl_src_campaign_markets AS t (campaign_id, market_id, market_code, updated_at, deleted_at)
        SELECT c, m, code, updated_at, d FROM n
        ON CONFLICT (campaign_id, market_id) DO UPDATE
           SET market_code = excluded.market_code, updated_at = excluded.updated_at, deleted_at = excluded.deleted_at
         WHERE excluded.updated_at >= t.updated_at
           AND (t.market_code, t.deleted_at) IS DISTINCT FROM (excluded.market_code, excluded.deleted_at)
        RETURNING t.campaign_id
    )
    INSERT INTO etl_touched SELECT 'ads.campaign_markets', campaign_id FROM up;

    WITH n AS (
        SELECT DISTINCT ON (a, ch, m, day) (node ->> 'adId')::uuid AS a, (node ->> 'channelId')::uuid AS ch,
               (node ->> 'marketId')::uuid AS m, (node ->> 'day')::date AS day, (node ->> 'campaignId')::uuid AS c,
               node -> 'channel' ->> 'code' AS ch_code, node -> 'market' ->> 'code' AS m_code,
               (node ->> 'reach')::bigint AS reach, (node ->> 'views')::bigint AS views,
               (node ->> 'interactions')::bigint AS interactions, (node ->> 'likes')::bigint AS likes,
               (node ->> 'sales')::bigint AS sales, (node ->> 'cost')::numeric AS cost,
               (node ->> 'revenue')::numeric AS revenue, updated_at, (node ->> 'deletedAt')::timestamptz AS d
          FROM etl_rows WHERE source = 'ads.ad_results' AND updated_at <= v_cutoff
         ORDER BY a, ch, m, day, updated_at DESC
    ), up AS (
        INSERT INTO sales.etl_src_ad_results AS t
            (ad_id, channel_id, market_id, day, campaign_id, channel_code, market_code, reach, views, interactions,
             likes, sales, cost, revenue, updated_at, deleted_at)
        SELECT a, ch, m, day, c, ch_code, m_code, reach, views, interactions, likes, sales, cost, revenue, updated_at, d
          FROM n
        ON CONFLICT (ad_id, channel_id, market_id, day) DO UPDATE
           SET campaign_id = excluded.campaign_id, channel_code = excluded.channel_code,
               market_code = excluded.market_code, reach = excluded.reach, views = excluded.views,
               interactions = excluded.interactions, likes = excluded.likes, sales = excluded.sales,
               cost = excluded.cost, revenue = excluded.revenue, updated_at = excluded.updated_at,
               deleted_at = excluded.deleted_at
         WHERE excluded.updated_at >= t.updated_at
           AND (t.campaign_id, t.channel_code, t.market_code, t.reach, t.views, t.interactions, t.likes, t.sales,
                t.cost, t.revenue, t.deleted_at)
               IS DISTINCT FROM (excluded.campaign_id, excluded.channel_code, excluded.market_code, excluded.reach,
                                 excluded.views, excluded.interactions, excluded.likes, excluded.sales,
                                 excluded.cost, excluded.revenue, excluded.deleted_at)
        RETURNING t.campaign_id
    )
    INSERT INTO etl_touched SELECT 'ads.ad_results', campaign_id FROM up;

    WITH n AS (
        SELECT DISTINCT ON (a, ch, day) (node ->> 'adId')::uuid AS a, (node ->> 'channelId')::uuid AS ch,
               (node ->> 'day')::date AS day, (node ->> 'campaignId')::uuid AS c,
               (node ->> 'positiveCount')::bigint AS pos, (node ->> 'negativeCount')::bigint AS neg,
               updated_at, (node ->> 'deletedAt')::timestamptz AS d
          FROM etl_rows WHERE source = 'ads.sentiment_samples' AND updated_at <= v_cutoff
         ORDER BY a, ch, day, updated_at DESC
    ), up AS (
        INSERT INTO sales.etl_src_sentiment_samples AS t
            (ad_id, channel_id, day, campaign_id, positive, negative, updated_at, deleted_at)
        SELECT a, ch, day, c, pos, neg, updated_at, d FROM n
        ON CONFLICT (ad_id, channel_id, day) DO UPDATE
           SET campaign_id = excluded.campaign_id, positive = excluded.positive, negative = excluded.negative,
               updated_at = excluded.updated_at, deleted_at = excluded.deleted_at
         WHERE excluded.updated_at >= t.updated_at
           AND (t.campaign_id, t.positive, t.negative, t.deleted_at)
               IS DISTINCT FROM (excluded.campaign_id, excluded.positive, excluded.negative, excluded.deleted_at)
        RETURNING t.campaign_id
    )
    INSERT INTO etl_touched SELECT 'ads.sentiment_samples', campaign_id FROM up;

    WITH n AS (
        SELECT DISTINCT ON (c, cu) (node -> 'campaign' ->> 'id')::uuid AS c, (node -> 'customer' ->> 'id')::uuid AS cu,
               (node ->> 'reached')::boolean AS reached, updated_at, (node ->> 'deletedAt')::timestamptz AS d
          FROM etl_rows WHERE source = 'crm.campaign_customers' AND updated_at <= v_cutoff
         ORDER BY c, cu, updated_at DESC
    ), up AS (
        INSERT INTO sales.etl_src_campaign_customers AS t (campaign_id, customer_id, reached, updated_at, deleted_at)
        SELECT c, cu, reached, updated_at, d FROM n
        ON CONFLICT (campaign_id, customer_id) DO UPDATE
           SET reached = excluded.reached, updated_at = excluded.updated_at, deleted_at = excluded.deleted_at
         WHERE excluded.updated_at >= t.updated_at
           AND (t.reached, t.deleted_at) IS DISTINCT FROM (excluded.reached, excluded.deleted_at)
        RETURNING t.campaign_id
    )
    INSERT INTO etl_touched SELECT 'crm.campaign_customers', campaign_id FROM up;

    -- Rows read and source rows changed, per feed.
    FOR v_source IN SELECT w.source FROM sales.etl_watermarks w ORDER BY w.source LOOP
        SELECT count(*) INTO v_read FROM etl_rows r WHERE r.source = v_source;
        SELECT count(*) INTO v_n FROM etl_touched t WHERE t.source = v_source;
        v_by_source := v_by_source || jsonb_build_object(v_source, jsonb_build_object('read', v_read, 'changed', v_n));
    END LOOP;

    -- 2. Recompute the touched campaigns from their source rows (campaigns whose own row has not
    --    arrived yet wait for it: the run that brings it touches them again).
    SELECT coalesce(array_agg(DISTINCT t.campaign_id), '{}') INTO v_affected FROM etl_touched t;

    CREATE TEMP TABLE etl_totals ON COMMIT DROP AS
    SELECT c.campaign_id, c.organization_id, c.brand_id, c.product_id, c.name, c.status, c.starts_at, c.ends_at,
           c.budget, c.deleted_at,
           coalesce(r.reach, 0) AS reach, coalesce(r.views, 0) AS views, coalesce(r.interactions, 0) AS interactions,
           coalesce(r.likes, 0) AS likes, coalesce(r.sales, 0) AS sales_count, coalesce(r.revenue, 0) AS revenue,
           coalesce(r.cost, 0) AS cost, coalesce(cu.reached, 0) AS customers_reached,
           coalesce(se.pos, 0) AS positive_reactions, coalesce(se.neg, 0) AS negative_reactions,
           coalesce(ch.codes, '{}') AS channels, coalesce(mk.codes, '{}') AS markets,
           r.first_day, r.last_day,
           greatest(c.updated_at, r.newest, se.newest, cu.newest, ch.newest, mk.newest) AS source_updated_at
      FROM sales.etl_src_campaigns c
      LEFT JOIN LATERAL (
          SELECT sum(a.reach) FILTER (WHERE a.deleted_at IS NULL) AS reach,
                 sum(a.views) FILTER (WHERE a.deleted_at IS NULL) AS views,
                 sum(a.interactions) FILTER (WHERE a.deleted_at IS NULL) AS interactions,
                 sum(a.likes) FILTER (WHERE a.deleted_at IS NULL) AS likes,
                 sum(a.sales) FILTER (WHERE a.deleted_at IS NULL) AS sales,
                 sum(a.revenue) FILTER (WHERE a.deleted_at IS NULL) AS revenue,
                 sum(a.cost) FILTER (WHERE a.deleted_at IS NULL) AS cost,
                 min(a.day) FILTER (WHERE a.deleted_at IS NULL) AS first_day,
                 max(a.day) FILTER (WHERE a.deleted_at IS NULL) AS last_day,
                 max(a.updated_at) AS newest
            FROM sales.etl_src_ad_results a WHERE a.campaign_id = c.campaign_id) r ON true
      LEFT JOIN LATERAL (
          SELECT sum(s.positive) FILTER (WHERE s.deleted_at IS NULL) AS pos,
                 sum(s.negative) FILTER (WHERE s.deleted_at IS NULL) AS neg, max(s.updated_at) AS newest
            FROM sales.etl_src_sentiment_samples s WHERE s.campaign_id = c.campaign_id) se ON true
      LEFT JOIN LATERAL (
          SELECT count(*) FILTER (WHERE x.deleted_at IS NULL AND x.reached) AS reached, max(x.updated_at) AS newest
            FROM sales.etl_src_campaign_customers x WHERE x.campaign_id = c.campaign_id) cu ON true
      LEFT JOIN LATERAL (
          SELECT array_agg(DISTINCT l.channel_code ORDER BY l.channel_code) FILTER (WHERE l.deleted_at IS NULL) AS codes,
                 max(l.updated_at) AS newest
            FROM sales.etl_src_campaign_channels l WHERE l.campaign_id = c.campaign_id) ch ON true
      LEFT JOIN LATERAL (
          SELECT array_agg(DISTINCT l.market_code ORDER BY l.market_code) FILTER (WHERE l.deleted_at IS NULL) AS codes,
                 max(l.updated_at) AS newest
            FROM sales.etl_src_campaign_markets l WHERE l.campaign_id = c.campaign_id) mk ON true
     WHERE c.campaign_id = ANY (v_affected);

    WITH up AS (
        INSERT INTO sales.campaign_summaries AS t
            (campaign_id, organization_id, brand_id, product_id, name, status, starts_at, ends_at, budget, reach,
             customers_reached, views, interactions, likes, sales_count, revenue, cost, roi, success_rate,
             positive_reactions, negative_reactions, channels, markets, first_day, last_day, source_updated_at,
             refreshed_at, deleted_at, created_at)
        -- A campaign deleted before its first load: its summary is recorded as of the deletion
        -- (the table requires deleted_at >= created_at).
        SELECT campaign_id, organization_id, brand_id, product_id, name, status, starts_at, ends_at, budget, reach,
               customers_reached, views, interactions, likes, sales_count, revenue, cost,
               CASE WHEN cost > 0 THEN round((revenue - cost) / cost, 4) END,
               CASE WHEN customers_reached > 0 THEN round(sales_count::numeric / customers_reached, 6) END,
               positive_reactions, negative_reactions, channels, markets, first_day, last_day, source_updated_at,
               v_started, deleted_at, least(now(), deleted_at)
          FROM etl_totals
        ON CONFLICT (campaign_id) DO UPDATE
           SET organization_id = excluded.organization_id, brand_id = excluded.brand_id,
               product_id = excluded.product_id, name = excluded.name, status = excluded.status,
               starts_at = excluded.starts_at, ends_at = excluded.ends_at, budget = excluded.budget,
               reach = excluded.reach, customers_reached = excluded.customers_reached, views = excluded.views,
               interactions = excluded.interactions, likes = excluded.likes, sales_count = excluded.sales_count,
               revenue = excluded.revenue, cost = excluded.cost, roi = excluded.roi,
               success_rate = excluded.success_rate, positive_reactions = excluded.positive_reactions,
               negative_reactions = excluded.negative_reactions, channels = excluded.channels,
               markets = excluded.markets, first_day = excluded.first_day, last_day = excluded.last_day,
               source_updated_at = excluded.source_updated_at, refreshed_at = excluded.refreshed_at,
               -- Clock skew between the stores must not break deleted_at >= created_at.
               -- (greatest() skips NULLs, hence the CASE: a restored campaign is live again.)
               deleted_at = CASE WHEN excluded.deleted_at IS NOT NULL
                                 THEN greatest(excluded.deleted_at, t.created_at) END
         WHERE (t.organization_id, t.brand_id, t.product_id, t.name, t.status, t.starts_at, t.ends_at, t.budget,
                t.reach, t.customers_reached, t.views, t.interactions, t.likes, t.sales_count, t.revenue, t.cost,
                t.roi, t.success_rate, t.positive_reactions, t.negative_reactions, t.channels, t.markets,
                t.first_day, t.last_day, t.deleted_at)
               IS DISTINCT FROM
               (excluded.organization_id, excluded.brand_id, excluded.product_id, excluded.name, excluded.status,
                excluded.starts_at, excluded.ends_at, excluded.budget, excluded.reach, excluded.customers_reached,
                excluded.views, excluded.interactions, excluded.likes, excluded.sales_count, excluded.revenue,
                excluded.cost, excluded.roi, excluded.success_rate, excluded.positive_reactions,
                excluded.negative_reactions, excluded.channels, excluded.markets, excluded.first_day,
                excluded.last_day, excluded.deleted_at)
        RETURNING t.campaign_id
    )
    INSERT INTO etl_changed SELECT campaign_id FROM up;

    -- Daily metrics of the live touched campaigns; days that no longer have results go.
    WITH d AS (
        SELECT a.campaign_id, a.day, t.organization_id, sum(a.reach) AS reach, sum(a.views) AS views,
               sum(a.interactions) AS interactions, sum(a.likes) AS likes, sum(a.sales) AS sales_count,
               sum(a.revenue) AS revenue, sum(a.cost) AS cost
          FROM sales.etl_src_ad_results a JOIN etl_totals t ON t.campaign_id = a.campaign_id
         WHERE a.deleted_at IS NULL AND t.deleted_at IS NULL
         GROUP BY a.campaign_id, a.day, t.organization_id
    ), gone AS (
        DELETE FROM sales.campaign_daily_metrics m
         WHERE m.campaign_id = ANY (v_affected)
           AND NOT EXISTS (SELECT 1 FROM d WHERE d.campaign_id = m.campaign_id AND d.day = m.day)
        RETURNING m.campaign_id
    ), up AS (
        INSERT INTO sales.campaign_daily_metrics AS t
            (campaign_id, day, organization_id, reach, views, interactions, likes, sales_count, revenue, cost, refreshed_at)
        SELECT campaign_id, day, organization_id, reach, views, interactions, likes, sales_count, revenue, cost, v_started
          FROM d
        ON CONFLICT (campaign_id, day) DO UPDATE
           SET organization_id = excluded.organization_id, reach = excluded.reach, views = excluded.views,
               interactions = excluded.interactions, likes = excluded.likes, sales_count = excluded.sales_count,
               revenue = excluded.revenue, cost = excluded.cost, refreshed_at = excluded.refreshed_at
         WHERE (t.organization_id, t.reach, t.views, t.interactions, t.likes, t.sales_count, t.revenue, t.cost)
               IS DISTINCT FROM (excluded.organization_id, excluded.reach, excluded.views, excluded.interactions,
                                 excluded.likes, excluded.sales_count, excluded.revenue, excluded.cost)
        RETURNING t.campaign_id
    )
    INSERT INTO etl_changed SELECT campaign_id FROM gone UNION ALL SELECT campaign_id FROM up;

    -- Channel breakdown.
    WITH d AS (
        SELECT a.campaign_id, a.channel_code AS channel, t.organization_id, sum(a.reach) AS reach,
               sum(a.views) AS views, sum(a.interactions) AS interactions, sum(a.likes) AS likes,
               sum(a.sales) AS sales_count, sum(a.revenue) AS revenue, sum(a.cost) AS cost
          FROM sales.etl_src_ad_results a JOIN etl_totals t ON t.campaign_id = a.campaign_id
         WHERE a.deleted_at IS NULL AND t.deleted_at IS NULL
         GROUP BY a.campaign_id, a.channel_code, t.organization_id
    ), gone AS (
        DELETE FROM sales.campaign_channel_metrics m
         WHERE m.campaign_id = ANY (v_affected)
           AND NOT EXISTS (SELECT 1 FROM d WHERE d.campaign_id = m.campaign_id AND d.channel = m.channel)
        RETURNING m.campaign_id
    ), up AS (
        INSERT INTO sales.campaign_channel_metrics AS t
            (campaign_id, channel, organization_id, reach, views, interactions, likes, sales_count, revenue, cost, refreshed_at)
        SELECT campaign_id, channel, organization_id, reach, views, interactions, likes, sales_count, revenue, cost, v_started
          FROM d
        ON CONFLICT (campaign_id, channel) DO UPDATE
           SET organization_id = excluded.organization_id, reach = excluded.reach, views = excluded.views,
               interactions = excluded.interactions, likes = excluded.likes, sales_count = excluded.sales_count,
               revenue = excluded.revenue, cost = excluded.cost, refreshed_at = excluded.refreshed_at,
               updated_at = clock_timestamp()
         WHERE (t.organization_id, t.reach, t.views, t.interactions, t.likes, t.sales_count, t.revenue, t.cost)
               IS DISTINCT FROM (excluded.organization_id, excluded.reach, excluded.views, excluded.interactions,
                                 excluded.likes, excluded.sales_count, excluded.revenue, excluded.cost)
        RETURNING t.campaign_id
    )
    INSERT INTO etl_changed SELECT campaign_id FROM gone UNION ALL SELECT campaign_id FROM up;

    -- Market breakdown.
    WITH d AS (
        SELECT a.campaign_id, a.market_code AS market, t.organization_id, sum(a.reach) AS reach,
               sum(a.views) AS views, sum(a.interactions) AS interactions, sum(a.likes) AS likes,
               sum(a.sales) AS sales_count, sum(a.revenue) AS revenue, sum(a.cost) AS cost
          FROM sales.etl_src_ad_results a JOIN etl_totals t ON t.campaign_id = a.campaign_id
         WHERE a.deleted_at IS NULL AND t.deleted_at IS NULL
         GROUP BY a.campaign_id, a.market_code, t.organization_id
    ), gone AS (
        DELETE FROM sales.campaign_market_metrics m
         WHERE m.campaign_id = ANY (v_affected)
           AND NOT EXISTS (SELECT 1 FROM d WHERE d.campaign_id = m.campaign_id AND d.market = m.market)
        RETURNING m.campaign_id
    ), up AS (
        INSERT INTO sales.campaign_market_metrics AS t
            (campaign_id, market, organization_id, reach, views, interactions, likes, sales_count, revenue, cost, refreshed_at)
        SELECT campaign_id, market, organization_id, reach, views, interactions, likes, sales_count, revenue, cost, v_started
          FROM d
        ON CONFLICT (campaign_id, market) DO UPDATE
           SET organization_id = excluded.organization_id, reach = excluded.reach, views = excluded.views,
               interactions = excluded.interactions, likes = excluded.likes, sales_count = excluded.sales_count,
               revenue = excluded.revenue, cost = excluded.cost, refreshed_at = excluded.refreshed_at,
               updated_at = clock_timestamp()
         WHERE (t.organization_id, t.reach, t.views, t.interactions, t.likes, t.sales_count, t.revenue, t.cost)
               IS DISTINCT FROM (excluded.organization_id, excluded.reach, excluded.views, excluded.interactions,
                                 excluded.likes, excluded.sales_count, excluded.revenue, excluded.cost)
        RETURNING t.campaign_id
    )
    INSERT INTO etl_changed SELECT campaign_id FROM gone UNION ALL SELECT campaign_id FROM up;

    SELECT count(*), coalesce(array_agg(DISTINCT c.campaign_id), '{}') INTO v_written, v_changed FROM etl_changed c;

    -- 3. Watermarks: the last row consumed per feed, in the feed's keyset order.
    SELECT min(w.watermark) INTO v_wm_from FROM sales.etl_watermarks w;
    WITH last AS (
        SELECT DISTINCT ON (r.source) r.source, r.updated_at, r.cursor
          FROM etl_rows r WHERE r.updated_at <= v_cutoff
         ORDER BY r.source, r.updated_at DESC, r.seq DESC, r.ord DESC
    )
    UPDATE sales.etl_watermarks w SET watermark = last.updated_at, last_cursor = last.cursor
      FROM last WHERE w.source = last.source AND w.watermark <= last.updated_at;
    SELECT max(w.watermark) INTO v_wm_to FROM sales.etl_watermarks w;

    -- A feed is caught up when its last page said there was no more, or went past the cutoff.
    SELECT coalesce(bool_and(
               NOT coalesce((p.page -> 'pageInfo' ->> 'hasNextPage')::boolean, false)
               OR EXISTS (SELECT 1 FROM etl_rows r WHERE r.source = p.source AND r.updated_at > v_cutoff)), true)
      INTO v_caught_up
      FROM (SELECT DISTINCT ON (s.source) s.source, s.page FROM sales.etl_stage s
             WHERE s.run_id = p_run_id ORDER BY s.source, s.seq DESC) p;

    SELECT count(*) INTO v_read FROM etl_rows;
    -- 4. The run, closed; its pages are no longer needed.
    UPDATE sales.etl_runs r
       SET status = 'succeeded', finished_at = greatest(clock_timestamp(), r.started_at), rows_read = v_read,
           rows_written = v_written, watermark_from = v_wm_from, watermark_to = greatest(v_wm_to, v_wm_from),
           caught_up = v_caught_up, rows_by_source = v_by_source
     WHERE r.id = p_run_id;
    DELETE FROM sales.etl_stage s WHERE s.run_id = p_run_id;

    RETURN QUERY SELECT v_changed, v_read, v_written, v_caught_up;
END;
$$;

COMMENT ON FUNCTION sales.etl_apply(uuid) IS
    'Applies a run''s staged pages in one transaction: source copies, summaries, daily metrics, breakdowns, '
    'watermarks and the run record. Returns the campaigns whose read models changed (their cache tags go).';
