-- =============================================================================
-- 02_encrypt_pii.sql: national ids and context data encrypted in the database
-- under a key the database does not hold. Run by 02_encrypted_backup_restore.sh
-- (read that script's header first); PostgreSQL twin of the encryption half of
-- sql/crm/mssql/scripts/02_encryption_certificate.sql.
--
-- The SQL Server story: a database master key, a certificate in master, an
-- AES-256 symmetric key protected by the certificate; the ciphertext travels in
-- the backup, the certificate (with its private key) does not. Here, the same
-- shape with pgcrypto:
--   key-encryption key (KEK)  the certificate's role. Never stored in the
--                             database: the server (or the session) is given it
--                             as the setting crm_vault.kek.
--   data-encryption key (DEK) the symmetric key's role. 32 random bytes, stored
--                             only wrapped by the KEK (crm_vault.data_keys).
--   ciphertext                PGP symmetric (AES-256, with an integrity check)
--                             under the DEK: a wrong key fails loudly, never
--                             returns garbage.
-- The application itself does the same with AES-256-GCM in Rust
-- (crates/platform/src/crypto.rs: per-customer DEKs in crm.customer_keys
-- wrapped by PROMPTSALES_KEKS), so real national ids are never plaintext in the
-- store; this lab encrypts a synthetic national id per customer (NID-…, derived
-- from the id) and a context document (segment, city, language, consent) so the
-- round trip can be checked against the plain columns.
--
-- What to look at: "round trip" shows every customer's national id and context
-- decrypted back to what was encrypted.
-- =============================================================================

CREATE EXTENSION IF NOT EXISTS pgcrypto;

DROP SCHEMA IF EXISTS crm_vault CASCADE;
CREATE SCHEMA crm_vault;

CREATE TABLE crm_vault.data_keys (
    key_id      text        NOT NULL,
    wrapped_dek bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT data_keys_pkey PRIMARY KEY (key_id)
);

CREATE TABLE crm_vault.customer_secrets (
    customer_id     uuid  NOT NULL,
    key_id          text  NOT NULL,
    national_id_enc bytea NOT NULL,
    context_enc     bytea NOT NULL,
    CONSTRAINT customer_secrets_pkey PRIMARY KEY (customer_id),
    CONSTRAINT customer_secrets_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES crm.customers (id),
    CONSTRAINT customer_secrets_key_id_fkey FOREIGN KEY (key_id) REFERENCES crm_vault.data_keys (key_id)
);
CREATE INDEX customer_secrets_key_id_idx ON crm_vault.customer_secrets (key_id);

-- The KEK this server (or session) was given; an error that says so when none.
CREATE FUNCTION crm_vault.kek() RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    k text := current_setting('crm_vault.kek', true);
BEGIN
    IF k IS NULL OR k = '' THEN
        RAISE EXCEPTION 'no key-encryption key on this server: crm_vault.kek is not set'
            USING ERRCODE = 'PC403', HINT = 'restore the key (postgresql.conf crm_vault.kek) and reload';
    END IF;
    RETURN k;
END;
$$;

-- The DEK of key_id, unwrapped with the KEK (hex, as pgp_sym_* take text keys).
CREATE FUNCTION crm_vault.dek(p_key_id text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT encode(pgp_sym_decrypt_bytea(k.wrapped_dek, crm_vault.kek()), 'hex')
    FROM crm_vault.data_keys AS k
    WHERE k.key_id = p_key_id;
$$;

-- Seal and open with an unwrapped DEK: callers unwrap it once per statement (a
-- MATERIALIZED CTE), not once per row. The DEK is 256 random bits, so no key
-- stretching is needed (s2k-mode=1, salted); the KEK wrap keeps the default,
-- iterated S2K.
CREATE FUNCTION crm_vault.seal(p_plain text, p_dek text) RETURNS bytea
LANGUAGE sql VOLATILE AS $$
    SELECT pgp_sym_encrypt(p_plain, p_dek, 'cipher-algo=aes256, compress-algo=0, s2k-mode=1');
$$;

CREATE FUNCTION crm_vault.open(p_sealed bytea, p_dek text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT pgp_sym_decrypt(p_sealed, p_dek);
$$;

-- How much of the vault this server can read: every row's national id must look
-- like one and its context must agree with the customer's plain columns. On
-- failure (no key, wrong key) the counts say none, and why.
CREATE FUNCTION crm_vault.readable() RETURNS TABLE (customers bigint, readable bigint, failure text)
LANGUAGE plpgsql AS $$
DECLARE
    total bigint;
BEGIN
    SELECT count(*) INTO total FROM crm_vault.customer_secrets;
    RETURN QUERY
    WITH keys AS MATERIALIZED (
        SELECT k.key_id, crm_vault.dek(k.key_id) AS dek FROM crm_vault.data_keys AS k
    )
    SELECT total, count(*), NULL::text
    FROM crm_vault.customer_secrets AS s
    INNER JOIN keys AS k ON s.key_id = k.key_id
    INNER JOIN crm.customers AS c ON s.customer_id = c.id
    CROSS JOIN LATERAL (
        SELECT crm_vault.open(s.national_id_enc, k.dek) AS national_id,
               crm_vault.open(s.context_enc, k.dek)::jsonb AS context
    ) AS o
    WHERE o.national_id = 'NID-' || upper(substr(md5(c.id::text), 1, 10))
      AND o.context ->> 'segment' = c.segment
      AND o.context ->> 'preferred_language' = c.preferred_language;
EXCEPTION WHEN OTHERS THEN
    RETURN QUERY SELECT total, 0::bigint, SQLERRM;
END;
$$;

-- One DEK for this lab, wrapped by the KEK at once: it is never stored in clear.
INSERT INTO crm_vault.data_keys (key_id, wrapped_dek)
SELECT 'crm-lab-dek-1', pgp_sym_encrypt_bytea(gen_random_bytes(32), crm_vault.kek(), 'cipher-algo=aes256');

INSERT INTO crm_vault.customer_secrets (customer_id, key_id, national_id_enc, context_enc)
WITH k AS MATERIALIZED (SELECT crm_vault.dek('crm-lab-dek-1') AS dek)
SELECT
    c.id,
    'crm-lab-dek-1',
    crm_vault.seal('NID-' || upper(substr(md5(c.id::text), 1, 10)), k.dek),
    crm_vault.seal(
        jsonb_build_object(
            'segment', c.segment, 'city', c.city, 'preferred_language', c.preferred_language,
            'marketing_consent', c.marketing_consent
        )::text,
        k.dek
    )
FROM crm.customers AS c
CROSS JOIN k
WHERE c.deleted_at IS NULL AND c.erased_at IS NULL;

-- Round trip on the source, which has the key.
SELECT customers AS "round trip: customers", readable AS "round trip: readable", failure
FROM crm_vault.readable();
