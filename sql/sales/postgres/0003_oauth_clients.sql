-- =============================================================================
-- The dev authorization server (`promptsales auth`): OAuth2 clients and the
-- keys access tokens are signed with.
--
-- A client authenticates with a secret of which only an Argon2id hash (PHC
-- string) is kept, so a copy of this table does not give access. Signing keys
-- are ES256 (P-256) private keys sealed at rest with the platform keyring: a
-- fresh data key per signing key, wrapped under the active KEK (kek_id), the
-- PKCS#8 key sealed under it with AES-256-GCM bound to the kid. Rotation adds a
-- key and retires the old one later, so tokens signed before it stay valid
-- until the retired key leaves the published JWKS.
-- =============================================================================

CREATE TABLE sales.oauth_clients (
    client_id       text        NOT NULL,
    secret_hash     text        NOT NULL,
    scopes          text[]      NOT NULL DEFAULT '{}',
    audience        text        NOT NULL DEFAULT 'promptsales-gateway',
    organization_id uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    disabled_at     timestamptz,
    CONSTRAINT oauth_clients_pkey PRIMARY KEY (client_id),
    CONSTRAINT oauth_clients_client_id_check   CHECK (client_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    CONSTRAINT oauth_clients_secret_hash_check CHECK (secret_hash LIKE '$argon2id$%'),
    CONSTRAINT oauth_clients_scopes_check      CHECK (array_position(scopes, NULL) IS NULL),
    CONSTRAINT oauth_clients_audience_check    CHECK (char_length(btrim(audience)) BETWEEN 1 AND 200),
    CONSTRAINT oauth_clients_disabled_at_check CHECK (disabled_at IS NULL OR disabled_at >= created_at),
    CONSTRAINT oauth_clients_organization_id_fkey
        FOREIGN KEY (organization_id) REFERENCES sales.organizations (id)
);

CREATE INDEX oauth_clients_organization_id_idx ON sales.oauth_clients (organization_id)
    WHERE organization_id IS NOT NULL;

COMMENT ON TABLE sales.oauth_clients IS
    'OAuth2 clients of the dev authorization server (client_credentials grant).';
COMMENT ON COLUMN sales.oauth_clients.secret_hash IS
    'Argon2id PHC string of the client secret; the secret itself is shown once at creation and never stored.';
COMMENT ON COLUMN sales.oauth_clients.scopes IS
    'Scopes the client may request; a token request without `scope` gets all of them.';
COMMENT ON COLUMN sales.oauth_clients.audience IS
    'The `aud` of the tokens issued to the client (the gateway by default).';
COMMENT ON COLUMN sales.oauth_clients.organization_id IS
    'The organization the client acts for, issued as the `org` claim; NULL for platform clients.';
COMMENT ON COLUMN sales.oauth_clients.disabled_at IS
    'When set, the client can no longer obtain tokens (rows are kept for the audit trail).';

CREATE TABLE sales.oauth_signing_keys (
    kid         text        NOT NULL,
    algorithm   text        NOT NULL DEFAULT 'ES256',
    public_jwk  jsonb       NOT NULL,
    kek_id      text        NOT NULL,
    wrapped_dek bytea       NOT NULL,
    private_key bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz,
    CONSTRAINT oauth_signing_keys_pkey PRIMARY KEY (kid),
    CONSTRAINT oauth_signing_keys_kid_check        CHECK (kid ~ '^[A-Za-z0-9_-]{1,64}$'),
    CONSTRAINT oauth_signing_keys_algorithm_check  CHECK (algorithm IN ('ES256')),
    CONSTRAINT oauth_signing_keys_public_jwk_check CHECK (jsonb_typeof(public_jwk) = 'object' AND NOT public_jwk ? 'd'),
    CONSTRAINT oauth_signing_keys_kek_id_check     CHECK (char_length(kek_id) BETWEEN 1 AND 64),
    CONSTRAINT oauth_signing_keys_retired_at_check CHECK (retired_at IS NULL OR retired_at >= created_at)
);

-- The newest key that is not retired signs; this finds it without a scan.
CREATE INDEX oauth_signing_keys_active_idx ON sales.oauth_signing_keys (created_at DESC)
    WHERE retired_at IS NULL;

COMMENT ON TABLE sales.oauth_signing_keys IS
    'Token signing keys of the dev authorization server; the newest unretired one signs, all unretired or recently retired ones are published.';
COMMENT ON COLUMN sales.oauth_signing_keys.public_jwk IS
    'The public key as a JWK (kty, crv, x, y); never the private part.';
COMMENT ON COLUMN sales.oauth_signing_keys.wrapped_dek IS
    'The data key that seals private_key, wrapped under the KEK named by kek_id.';
COMMENT ON COLUMN sales.oauth_signing_keys.private_key IS
    'PKCS#8 DER of the private key sealed with AES-256-GCM (nonce ‖ ciphertext ‖ tag), bound to the kid.';
COMMENT ON COLUMN sales.oauth_signing_keys.retired_at IS
    'When the key stopped signing; it stays in the JWKS for a grace period after, so tokens it signed still verify.';
