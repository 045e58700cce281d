-- PromptContent — PostgreSQL jsonb twin of the MongoDB store (sql/content/mongodb/0001_init.json).
--
-- One table per MongoDB collection. `id` is the document's `_id`; the fields that are queried or
-- constrained are promoted to real columns; `doc` holds every other top-level field of the document,
-- and never a promoted one (a CHECK enforces the exact key set, as `additionalProperties: false`
-- does in MongoDB), so each value lives in exactly one place. An adapter rebuilds the MongoDB
-- document as {_id: id} + promoted columns + doc. Inside `doc`, dates are RFC 3339 UTC strings
-- ("2025-10-01T12:00:00.481Z"), because jsonb has no date type; binary values and decimals are
-- always promoted to bytea / numeric columns, never kept in `doc`.
--
-- The CHECK constraints mirror the MongoDB validators and add the cross-field rules a $jsonSchema
-- cannot state (format agrees with content type, age_min <= age_max, credentials pairing, blob hash).
-- Applied by the sqlx migrator inside one transaction: no CONCURRENTLY, no extensions.

CREATE SCHEMA content;

COMMENT ON SCHEMA content IS
    'PromptContent (images, hashtags, content requests, campaign logs, integrations, generation logs): '
    'jsonb twin of the MongoDB store; see sql/content/README.md';

-- =====================================================================================================
-- Helpers: the updated_at trigger and the validators used by the CHECK constraints.
-- Each validator returns true or false, never NULL (a NULL CHECK result would let the row through),
-- and false for a missing key or a value of the wrong JSON type.
-- =====================================================================================================

-- The store, not the caller, owns updated_at (so the ETL's "updated since" reads cannot be fooled by
-- a back-dated client clock); created_at is immutable once written.
CREATE FUNCTION content.touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := clock_timestamp();
    IF TG_OP = 'UPDATE' THEN
        NEW.created_at := OLD.created_at;
    END IF;
    RETURN NEW;
END;
$$;

-- obj is a JSON object whose keys are exactly `keys` (all required, nothing else).
CREATE FUNCTION content.has_keys(obj jsonb, keys text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(obj) = 'object'
            THEN obj ?& keys AND (obj - keys) = '{}'::jsonb
            ELSE false END;

-- v is a JSON string of min_len..max_len characters.
CREATE FUNCTION content.is_text(v jsonb, min_len integer, max_len integer) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(v) = 'string'
            THEN char_length(v #>> '{}') BETWEEN min_len AND max_len
            ELSE false END;

-- v is a JSON string matching the (anchored) regular expression.
CREATE FUNCTION content.is_string(v jsonb, pattern text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(v) = 'string' THEN (v #>> '{}') ~ pattern ELSE false END;

-- v is a JSON string equal to one of vals (a MongoDB `enum`).
CREATE FUNCTION content.is_one_of(v jsonb, vals text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(v) = 'string' THEN (v #>> '{}') = ANY (vals) ELSE false END;

-- v is a JSON integer (no fraction, as MongoDB int/long) within lo..hi.
CREATE FUNCTION content.is_int(v jsonb, lo bigint, hi bigint) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(v) = 'number' AND v::text ~ '^-?[0-9]{1,18}$'
            THEN (v::text)::bigint BETWEEN lo AND hi
            ELSE false END;

-- v is a JSON string holding a real UTC RFC 3339 time (the twin's form of a MongoDB date), e.g.
-- "2025-10-01T12:00:00Z" or "2025-10-01T12:00:00.481Z". The regular expression fixes the shape and the
-- field ranges; the day is then checked against the length of its month (so 2025-02-30 is false).
-- Plain arithmetic, no cast from text: the answer never depends on TimeZone or DateStyle.
CREATE FUNCTION content.is_utc_timestamp(v jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(v) = 'string'
                 AND (v #>> '{}') ~ ('^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])'
                                     'T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?Z$')
                 AND left(v #>> '{}', 4) <> '0000'
            THEN substr(v #>> '{}', 9, 2)::integer
                 <= extract(day FROM make_date(left(v #>> '{}', 4)::integer, substr(v #>> '{}', 6, 2)::integer, 1)
                                     + interval '1 month - 1 day')
            ELSE false END;

-- v is a JSON array of min_items..max_items distinct strings, each matching pattern
-- (MongoDB: bsonType array + minItems + maxItems + uniqueItems + items.pattern).
CREATE FUNCTION content.is_string_array(v jsonb, pattern text, min_items integer, max_items integer)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(v) = 'array'
            THEN jsonb_array_length(v) BETWEEN min_items AND max_items
                 AND NOT EXISTS (SELECT 1
                                   FROM jsonb_array_elements(v) AS e(item)
                                  WHERE jsonb_typeof(e.item) <> 'string' OR (e.item #>> '{}') !~ pattern)
                 AND (SELECT count(DISTINCT e.item) FROM jsonb_array_elements(v) AS e(item))
                     = jsonb_array_length(v)
            ELSE false END;

-- The same rule for a promoted text[] column: one-dimensional, min_items..max_items distinct,
-- non-null elements, each matching pattern.
CREATE FUNCTION content.is_text_array(v text[], pattern text, min_items integer, max_items integer)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN v IS NOT NULL AND coalesce(array_ndims(v), 1) = 1
            THEN cardinality(v) BETWEEN min_items AND max_items
                 AND NOT EXISTS (SELECT 1 FROM unnest(v) AS t(item) WHERE t.item IS NULL OR t.item !~ pattern)
                 AND (SELECT count(DISTINCT t.item) FROM unnest(v) AS t(item)) = cardinality(v)
            ELSE false END;

-- content_requests.doc.target_audiences: 1..20 audiences, each exactly {name, age_min, age_max,
-- locales, interests, country_codes}; ages 13..100 (no advertising to children) and, beyond what
-- the MongoDB validator can say, age_min <= age_max.
CREATE FUNCTION content.is_target_audience_list(v jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    audience jsonb;
BEGIN
    IF jsonb_typeof(v) IS DISTINCT FROM 'array' THEN
        RETURN false;
    END IF;
    IF jsonb_array_length(v) NOT BETWEEN 1 AND 20 THEN
        RETURN false;
    END IF;
    FOR audience IN SELECT e.item FROM jsonb_array_elements(v) AS e(item) LOOP
        IF NOT (content.has_keys(audience, ARRAY['name', 'age_min', 'age_max', 'locales', 'interests',
                                                 'country_codes'])
                AND content.is_text(audience -> 'name', 1, 120)
                AND content.is_int(audience -> 'age_min', 13, 100)
                AND content.is_int(audience -> 'age_max', 13, 100)
                AND content.is_string_array(audience -> 'locales', '^[a-z]{2,3}(-([A-Z]{2}|[0-9]{3}))?$', 1, 10)
                AND content.is_string_array(audience -> 'interests', '^.{1,60}$', 0, 30)
                AND content.is_string_array(audience -> 'country_codes', '^[A-Z]{2}$', 1, 50)) THEN
            RETURN false;
        END IF;
        IF (audience ->> 'age_min')::integer > (audience ->> 'age_max')::integer THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END;
$$;

-- campaign_logs.doc.messages: 0..1000 messages, each exactly {at, locale, text}.
CREATE FUNCTION content.is_message_list(v jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    message jsonb;
BEGIN
    IF jsonb_typeof(v) IS DISTINCT FROM 'array' THEN
        RETURN false;
    END IF;
    IF jsonb_array_length(v) > 1000 THEN
        RETURN false;
    END IF;
    FOR message IN SELECT e.item FROM jsonb_array_elements(v) AS e(item) LOOP
        IF NOT (content.has_keys(message, ARRAY['at', 'locale', 'text'])
                AND content.is_utc_timestamp(message -> 'at')
                AND content.is_string(message -> 'locale', '^[a-z]{2,3}(-([A-Z]{2}|[0-9]{3}))?$')
                AND content.is_text(message -> 'text', 1, 4000)) THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END;
$$;

-- =====================================================================================================
-- Images: metadata in `images`, bytes in `image_blobs` (so listing images never reads the bytes).
-- =====================================================================================================

CREATE TABLE content.images (
    id              uuid        NOT NULL,                -- MongoDB: _id, binData subtype 4
    organization_id uuid,                                -- MongoDB: binData subtype 4 or null (null = shared stock library)
    format          text        NOT NULL,
    hashtags        text[]      NOT NULL,                -- MongoDB: array of string (multikey index); here text[] with a GIN index
    doc             jsonb       NOT NULL,                -- MongoDB: the other top-level fields of the document (file, description, alt_text, palette, subjects, usage_rights)
    created_at      timestamptz NOT NULL DEFAULT now(),  -- MongoDB: date (millisecond precision)
    updated_at      timestamptz NOT NULL DEFAULT now(),  -- MongoDB: date (millisecond precision), set with $currentDate; here by trigger
    deleted_at      timestamptz,                         -- MongoDB: date or null, always present
    CONSTRAINT images_pkey PRIMARY KEY (id),
    CONSTRAINT images_format_check CHECK (format IN ('png', 'webp')),
    CONSTRAINT images_hashtags_check CHECK (content.is_text_array(hashtags, '^[a-z0-9_]{2,50}$', 3, 8)),
    CONSTRAINT images_doc_keys_check CHECK (
        content.has_keys(doc, ARRAY['file', 'description', 'alt_text', 'palette', 'subjects', 'usage_rights'])),
    -- 15 MiB: the MongoDB blob document must stay under the 16 MiB BSON limit.
    CONSTRAINT images_file_check CHECK (
        content.has_keys(doc -> 'file', ARRAY['name', 'content_type', 'size_bytes', 'width', 'height', 'sha256'])
        AND content.is_text(doc #> '{file,name}', 1, 255)
        AND content.is_string(doc #> '{file,name}', '^[^/\\]+$')
        AND content.is_one_of(doc #> '{file,content_type}', ARRAY['image/png', 'image/webp'])
        AND content.is_int(doc #> '{file,size_bytes}', 1, 15728640)
        AND content.is_int(doc #> '{file,width}', 1, 16384)
        AND content.is_int(doc #> '{file,height}', 1, 16384)
        AND content.is_string(doc #> '{file,sha256}', '^[0-9a-f]{64}$')),
    -- Not expressible in the MongoDB validator: the format and the MIME type must agree.
    CONSTRAINT images_content_type_check CHECK (coalesce((doc #>> '{file,content_type}') = 'image/' || format, false)),
    CONSTRAINT images_description_check CHECK (content.is_text(doc -> 'description', 200, 5000)),
    CONSTRAINT images_alt_text_check CHECK (content.is_text(doc -> 'alt_text', 1, 250)),
    CONSTRAINT images_palette_check CHECK (content.is_string_array(doc -> 'palette', '^#[0-9a-f]{6}$', 1, 12)),
    CONSTRAINT images_subjects_check CHECK (content.is_string_array(doc -> 'subjects', '^.{1,80}$', 1, 20)),
    CONSTRAINT images_usage_rights_check CHECK (
        content.has_keys(doc -> 'usage_rights', ARRAY['license', 'owner', 'expires_at', 'allowed_channels'])
        AND content.is_one_of(doc #> '{usage_rights,license}',
                              ARRAY['owned', 'licensed', 'royalty_free', 'creative_commons'])
        AND content.is_text(doc #> '{usage_rights,owner}', 1, 200)
        AND (coalesce(jsonb_typeof(doc #> '{usage_rights,expires_at}') = 'null', false)
             OR content.is_utc_timestamp(doc #> '{usage_rights,expires_at}'))
        AND content.is_string_array(doc #> '{usage_rights,allowed_channels}', '^[a-z0-9_]{1,40}$', 1, 20)),
    CONSTRAINT images_deleted_at_check CHECK (deleted_at IS NULL OR deleted_at >= created_at)
);

COMMENT ON TABLE content.images IS
    'Content library images (metadata). Twin of the MongoDB collection images; bytes in content.image_blobs.';
COMMENT ON COLUMN content.images.organization_id IS
    'Owning organization (PromptSales, no FK across stores); NULL for the shared stock library.';
COMMENT ON COLUMN content.images.hashtags IS '3 to 8 distinct lowercase hashtags without the leading #.';
COMMENT ON COLUMN content.images.doc IS
    'Remaining document fields: file {name, content_type, size_bytes, width, height, sha256}, description, '
    'alt_text, palette, subjects, usage_rights {license, owner, expires_at, allowed_channels}.';
COMMENT ON COLUMN content.images.deleted_at IS 'Tombstone: set on delete (which also moves updated_at).';

CREATE INDEX images_organization_id_created_at_idx ON content.images (organization_id, created_at DESC);
CREATE INDEX images_hashtags_idx ON content.images USING gin (hashtags);  -- MongoDB: multikey B-tree {hashtags: 1}
CREATE INDEX images_file_sha256_idx ON content.images ((doc #>> '{file,sha256}'));  -- MongoDB: {"file.sha256": 1}; finds an already stored file
CREATE INDEX images_updated_at_id_idx ON content.images (updated_at, id);

CREATE TRIGGER images_touch_updated_at BEFORE INSERT OR UPDATE ON content.images
    FOR EACH ROW EXECUTE FUNCTION content.touch_updated_at();

CREATE TABLE content.image_blobs (
    image_id uuid  NOT NULL,  -- MongoDB: _id (the image id), binData subtype 4
    data     bytea NOT NULL,  -- MongoDB: binData subtype 0
    sha256   text  NOT NULL,
    CONSTRAINT image_blobs_pkey PRIMARY KEY (image_id),
    -- The bytes belong to the image: purging an image row purges its bytes.
    CONSTRAINT image_blobs_image_id_fkey FOREIGN KEY (image_id)
        REFERENCES content.images (id) ON DELETE CASCADE,
    CONSTRAINT image_blobs_data_check CHECK (octet_length(data) BETWEEN 1 AND 15728640),
    CONSTRAINT image_blobs_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    -- Not expressible in MongoDB: the stored hash is the hash of the stored bytes.
    CONSTRAINT image_blobs_sha256_data_check CHECK (sha256 = encode(sha256(data), 'hex'))
);

-- PNG and WebP are already compressed: keep them out of line without a pointless compression attempt.
ALTER TABLE content.image_blobs ALTER COLUMN data SET STORAGE EXTERNAL;

COMMENT ON TABLE content.image_blobs IS
    'Bytes of one image (PNG or WebP, at most 15 MiB). Twin of the MongoDB collection image_blobs, _id = image id.';
COMMENT ON COLUMN content.image_blobs.sha256 IS 'SHA-256 of data, lowercase hex; equals images.doc.file.sha256.';

-- =====================================================================================================
-- Hashtags: the shared vocabulary (no organization: hashtags are public words).
-- =====================================================================================================

CREATE TABLE content.hashtags (
    id          uuid        NOT NULL,                    -- MongoDB: _id, binData subtype 4
    tag         text        NOT NULL,
    category    text        NOT NULL,
    usage_count bigint      NOT NULL DEFAULT 0,          -- MongoDB: int or long
    doc         jsonb       NOT NULL DEFAULT '{}',       -- MongoDB: every field is promoted here, so the rest is empty
    created_at  timestamptz NOT NULL DEFAULT now(),      -- MongoDB: date (millisecond precision)
    updated_at  timestamptz NOT NULL DEFAULT now(),      -- MongoDB: date (millisecond precision), set with $currentDate; here by trigger
    deleted_at  timestamptz,                             -- MongoDB: date or null, always present
    CONSTRAINT hashtags_pkey PRIMARY KEY (id),
    CONSTRAINT hashtags_tag_check CHECK (tag ~ '^[a-z0-9_]{2,50}$'),
    CONSTRAINT hashtags_category_check CHECK (category ~ '^[a-z0-9_]{1,40}$'),
    CONSTRAINT hashtags_usage_count_check CHECK (usage_count >= 0),
    CONSTRAINT hashtags_doc_keys_check CHECK (content.has_keys(doc, ARRAY[]::text[])),
    CONSTRAINT hashtags_deleted_at_check CHECK (deleted_at IS NULL OR deleted_at >= created_at)
);

COMMENT ON TABLE content.hashtags IS
    'Hashtag vocabulary used to tag images and to suggest hashtags. Twin of the MongoDB collection hashtags.';
COMMENT ON COLUMN content.hashtags.tag IS 'Lowercase letters, digits and underscore, without #; unique among live rows.';
COMMENT ON COLUMN content.hashtags.category IS 'Grouping such as season, product, audience, event or trend.';
COMMENT ON COLUMN content.hashtags.usage_count IS 'Number of live images carrying the hashtag (kept by the application).';

-- Partial: a deleted hashtag can be created again.
CREATE UNIQUE INDEX hashtags_tag_idx ON content.hashtags (tag) WHERE deleted_at IS NULL;
CREATE INDEX hashtags_category_usage_count_idx ON content.hashtags (category, usage_count DESC);
CREATE INDEX hashtags_updated_at_id_idx ON content.hashtags (updated_at, id);

CREATE TRIGGER hashtags_touch_updated_at BEFORE INSERT OR UPDATE ON content.hashtags
    FOR EACH ROW EXECUTE FUNCTION content.touch_updated_at();

-- =====================================================================================================
-- Content requests and campaign logs: what a campaign asked for and what it sent to each population.
-- campaign_id names a PromptAds campaign and organization_id / requested_by PromptSales rows:
-- no foreign keys, those rows live in other stores.
-- =====================================================================================================

CREATE TABLE content.content_requests (
    id              uuid        NOT NULL,                -- MongoDB: _id, binData subtype 4
    organization_id uuid        NOT NULL,                -- MongoDB: binData subtype 4
    campaign_id     uuid        NOT NULL,                -- MongoDB: binData subtype 4
    status          text        NOT NULL DEFAULT 'open',
    requested_by    uuid        NOT NULL,                -- MongoDB: binData subtype 4 (PromptSales portal user)
    doc             jsonb       NOT NULL,                -- MongoDB: the other top-level fields (campaign_description, target_audiences)
    created_at      timestamptz NOT NULL DEFAULT now(),  -- MongoDB: date (millisecond precision)
    updated_at      timestamptz NOT NULL DEFAULT now(),  -- MongoDB: date (millisecond precision), set with $currentDate; here by trigger
    deleted_at      timestamptz,                         -- MongoDB: date or null, always present
    CONSTRAINT content_requests_pkey PRIMARY KEY (id),
    CONSTRAINT content_requests_status_check CHECK (status IN ('open', 'in_progress', 'delivered', 'cancelled')),
    CONSTRAINT content_requests_doc_keys_check CHECK (
        content.has_keys(doc, ARRAY['campaign_description', 'target_audiences'])),
    CONSTRAINT content_requests_campaign_description_check CHECK (
        content.is_text(doc -> 'campaign_description', 20, 20000)),
    CONSTRAINT content_requests_target_audiences_check CHECK (
        content.is_target_audience_list(doc -> 'target_audiences')),
    CONSTRAINT content_requests_deleted_at_check CHECK (deleted_at IS NULL OR deleted_at >= created_at)
);

COMMENT ON TABLE content.content_requests IS
    'A request for content for one campaign: its description and target audiences. '
    'Twin of the MongoDB collection content_requests.';
COMMENT ON COLUMN content.content_requests.campaign_id IS 'PromptAds campaign (same id in every store; no FK across stores).';
COMMENT ON COLUMN content.content_requests.requested_by IS 'PromptSales portal user who asked (no FK across stores).';
COMMENT ON COLUMN content.content_requests.doc IS
    'campaign_description and target_audiences [{name, age_min, age_max, locales, interests, country_codes}].';

CREATE INDEX content_requests_organization_id_created_at_idx
    ON content.content_requests (organization_id, created_at DESC);
CREATE INDEX content_requests_organization_id_status_created_at_idx
    ON content.content_requests (organization_id, status, created_at DESC);
CREATE INDEX content_requests_campaign_id_idx ON content.content_requests (campaign_id);
CREATE INDEX content_requests_updated_at_id_idx ON content.content_requests (updated_at, id);

CREATE TRIGGER content_requests_touch_updated_at BEFORE INSERT OR UPDATE ON content.content_requests
    FOR EACH ROW EXECUTE FUNCTION content.touch_updated_at();

CREATE TABLE content.campaign_logs (
    id              uuid        NOT NULL,                -- MongoDB: _id, binData subtype 4
    organization_id uuid        NOT NULL,                -- MongoDB: binData subtype 4
    campaign_id     uuid        NOT NULL,                -- MongoDB: binData subtype 4
    population      text        NOT NULL,
    channel_code    text        NOT NULL,
    doc             jsonb       NOT NULL,                -- MongoDB: the other top-level fields (messages [{at, locale, text}], at as RFC 3339 text)
    created_at      timestamptz NOT NULL DEFAULT now(),  -- MongoDB: date (millisecond precision)
    updated_at      timestamptz NOT NULL DEFAULT now(),  -- MongoDB: date (millisecond precision), set with $currentDate; here by trigger
    deleted_at      timestamptz,                         -- MongoDB: date or null, always present
    CONSTRAINT campaign_logs_pkey PRIMARY KEY (id),
    CONSTRAINT campaign_logs_population_check CHECK (char_length(population) BETWEEN 1 AND 120),
    CONSTRAINT campaign_logs_channel_code_check CHECK (channel_code ~ '^[a-z0-9_]{1,40}$'),
    CONSTRAINT campaign_logs_doc_keys_check CHECK (content.has_keys(doc, ARRAY['messages'])),
    -- Bounded (as in MongoDB) so that one document stays far below 16 MiB; a full log is continued in a new one.
    CONSTRAINT campaign_logs_messages_check CHECK (content.is_message_list(doc -> 'messages')),
    CONSTRAINT campaign_logs_deleted_at_check CHECK (deleted_at IS NULL OR deleted_at >= created_at)
);

COMMENT ON TABLE content.campaign_logs IS
    'Messages a campaign sent to one target population on one channel. Twin of the MongoDB collection campaign_logs.';
COMMENT ON COLUMN content.campaign_logs.population IS 'Target population name (a target audience of the content request).';
COMMENT ON COLUMN content.campaign_logs.channel_code IS 'PromptAds channel code (ads.channels.code; no FK across stores).';

CREATE INDEX campaign_logs_organization_id_created_at_idx ON content.campaign_logs (organization_id, created_at DESC);
CREATE INDEX campaign_logs_campaign_id_population_channel_code_idx
    ON content.campaign_logs (campaign_id, population, channel_code);
CREATE INDEX campaign_logs_updated_at_id_idx ON content.campaign_logs (updated_at, id);

CREATE TRIGGER campaign_logs_touch_updated_at BEFORE INSERT OR UPDATE ON content.campaign_logs
    FOR EACH ROW EXECUTE FUNCTION content.touch_updated_at();

-- =====================================================================================================
-- Integrations: an organization's connections to outside services. Credentials arrive already
-- encrypted by the application (AES-256-GCM, envelope encryption); the plaintext never reaches a store.
-- =====================================================================================================

CREATE TABLE content.integrations (
    id                 uuid        NOT NULL,                 -- MongoDB: _id, binData subtype 4
    organization_id    uuid        NOT NULL,                 -- MongoDB: binData subtype 4
    name               text        NOT NULL,
    kind               text        NOT NULL,
    auth_method        text        NOT NULL,
    credentials_enc    bytea,                                -- MongoDB: binData subtype 0 or null
    credentials_key_id text,
    enabled            boolean     NOT NULL DEFAULT false,
    doc                jsonb       NOT NULL,                 -- MongoDB: the other top-level fields (endpoint)
    created_at         timestamptz NOT NULL DEFAULT now(),   -- MongoDB: date (millisecond precision)
    updated_at         timestamptz NOT NULL DEFAULT now(),   -- MongoDB: date (millisecond precision), set with $currentDate; here by trigger
    deleted_at         timestamptz,                          -- MongoDB: date or null, always present
    CONSTRAINT integrations_pkey PRIMARY KEY (id),
    CONSTRAINT integrations_name_check CHECK (char_length(name) BETWEEN 1 AND 120),
    CONSTRAINT integrations_kind_check CHECK (
        kind IN ('openai', 'meta_ads', 'google_ads', 'mailchimp', 'hubspot', 'webhook', 'custom')),
    CONSTRAINT integrations_auth_method_check CHECK (
        auth_method IN ('oauth2_client_credentials', 'api_key', 'basic', 'bearer', 'none')),
    -- The rules below are beyond a $jsonSchema; the MongoDB adapter enforces them in code.
    -- Ciphertext and the id of the key that made it come together.
    CONSTRAINT integrations_credentials_check CHECK ((credentials_enc IS NULL) = (credentials_key_id IS NULL)),
    -- 12-byte GCM nonce + 16-byte tag: anything shorter cannot be an AES-256-GCM envelope.
    CONSTRAINT integrations_credentials_enc_check CHECK (octet_length(credentials_enc) >= 28),
    CONSTRAINT integrations_credentials_key_id_check CHECK (char_length(credentials_key_id) BETWEEN 1 AND 200),
    -- No credentials for auth_method none; an enabled integration that needs credentials has them.
    CONSTRAINT integrations_auth_none_check CHECK (auth_method <> 'none' OR credentials_enc IS NULL),
    CONSTRAINT integrations_enabled_check CHECK (NOT enabled OR auth_method = 'none' OR credentials_enc IS NOT NULL),
    CONSTRAINT integrations_doc_keys_check CHECK (content.has_keys(doc, ARRAY['endpoint'])),
    CONSTRAINT integrations_endpoint_check CHECK (
        content.is_text(doc -> 'endpoint', 9, 2048)
        AND content.is_string(doc -> 'endpoint', '^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^[:space:]]*)?$')),
    CONSTRAINT integrations_deleted_at_check CHECK (deleted_at IS NULL OR deleted_at >= created_at)
);

COMMENT ON TABLE content.integrations IS
    'Connections of an organization to outside services (ads platforms, e-mail, CRM, webhooks, model APIs). '
    'Twin of the MongoDB collection integrations.';
COMMENT ON COLUMN content.integrations.credentials_enc IS
    'Credentials as AES-256-GCM ciphertext made by the application (nonce and tag included); NULL when none.';
COMMENT ON COLUMN content.integrations.credentials_key_id IS 'Key that encrypted credentials_enc; NULL exactly when it is NULL.';
COMMENT ON COLUMN content.integrations.doc IS 'endpoint: base URL of the service, https only.';

-- Partial: a deleted integration's name can be used again.
CREATE UNIQUE INDEX integrations_organization_id_name_idx
    ON content.integrations (organization_id, name) WHERE deleted_at IS NULL;
CREATE INDEX integrations_organization_id_created_at_idx ON content.integrations (organization_id, created_at DESC);
CREATE INDEX integrations_updated_at_id_idx ON content.integrations (updated_at, id);

CREATE TRIGGER integrations_touch_updated_at BEFORE INSERT OR UPDATE ON content.integrations
    FOR EACH ROW EXECUTE FUNCTION content.touch_updated_at();

-- =====================================================================================================
-- Generation logs: one row per call to a generative model, for cost and latency reporting.
-- Kept indefinitely (no TTL, no tombstone: a log is never deleted).
-- =====================================================================================================

CREATE TABLE content.generation_logs (
    id              uuid          NOT NULL,               -- MongoDB: _id, binData subtype 4
    organization_id uuid,                                 -- MongoDB: binData subtype 4 or null (null = generated for the stock library)
    request_id      uuid,                                 -- MongoDB: binData subtype 4 or null
    kind            text          NOT NULL,
    model           text          NOT NULL,
    tokens_in       bigint        NOT NULL DEFAULT 0,     -- MongoDB: int or long
    tokens_out      bigint        NOT NULL DEFAULT 0,     -- MongoDB: int or long
    latency_ms      bigint        NOT NULL,               -- MongoDB: int or long
    cost_usd        numeric(12,6) NOT NULL,               -- MongoDB: decimal (Decimal128, no fixed scale)
    doc             jsonb         NOT NULL,               -- MongoDB: the other top-level fields (prompt, output_ref)
    created_at      timestamptz   NOT NULL DEFAULT now(), -- MongoDB: date (millisecond precision)
    updated_at      timestamptz   NOT NULL DEFAULT now(), -- MongoDB: date (millisecond precision), set with $currentDate; here by trigger
    CONSTRAINT generation_logs_pkey PRIMARY KEY (id),
    -- A log outlives the request it served.
    CONSTRAINT generation_logs_request_id_fkey FOREIGN KEY (request_id)
        REFERENCES content.content_requests (id) ON DELETE SET NULL,
    CONSTRAINT generation_logs_kind_check CHECK (kind IN ('image', 'text', 'hashtags')),
    CONSTRAINT generation_logs_model_check CHECK (char_length(model) BETWEEN 1 AND 100),
    CONSTRAINT generation_logs_tokens_check CHECK (tokens_in >= 0 AND tokens_out >= 0),
    CONSTRAINT generation_logs_latency_ms_check CHECK (latency_ms >= 0),
    CONSTRAINT generation_logs_cost_usd_check CHECK (cost_usd >= 0),
    CONSTRAINT generation_logs_doc_keys_check CHECK (content.has_keys(doc, ARRAY['prompt', 'output_ref'])),
    CONSTRAINT generation_logs_prompt_check CHECK (content.is_text(doc -> 'prompt', 1, 100000)),
    CONSTRAINT generation_logs_output_ref_check CHECK (
        coalesce(jsonb_typeof(doc -> 'output_ref') = 'null', false) OR content.is_text(doc -> 'output_ref', 1, 500))
);

COMMENT ON TABLE content.generation_logs IS
    'One call to a generative model (image, text or hashtags) with tokens, latency and cost; kept, never deleted. '
    'Twin of the MongoDB collection generation_logs.';
COMMENT ON COLUMN content.generation_logs.organization_id IS 'Organization billed; NULL for generations made for the shared stock library.';
COMMENT ON COLUMN content.generation_logs.cost_usd IS
    'Cost of the call in USD. Six decimals, not the numeric(14,2) of invoiced amounts: one call costs fractions of a cent.';
COMMENT ON COLUMN content.generation_logs.doc IS 'prompt (text sent) and output_ref (what came out, e.g. images/<uuid>; null when nothing).';

CREATE INDEX generation_logs_organization_id_created_at_idx ON content.generation_logs (organization_id, created_at DESC);
CREATE INDEX generation_logs_request_id_idx ON content.generation_logs (request_id);
CREATE INDEX generation_logs_updated_at_id_idx ON content.generation_logs (updated_at, id);

CREATE TRIGGER generation_logs_touch_updated_at BEFORE INSERT OR UPDATE ON content.generation_logs
    FOR EACH ROW EXECUTE FUNCTION content.touch_updated_at();
