-- =============================================================================
-- 02_read_restored.sql: what a restored copy of promptcrm shows. Run by
-- 02_encrypted_backup_restore.sh on the second server, before and after the key
-- is restored there.
--
-- What to look at: the ciphertext is there either way (a PGP message, no
-- plaintext); "readable" is 0 with the reason while the server has no key (or a
-- wrong one), and equals "customers" once the key is back.
-- =============================================================================

SELECT encode(substr(s.national_id_enc, 1, 12), 'hex') AS "national_id_enc (first bytes)",
       octet_length(s.context_enc) AS "context_enc bytes"
FROM crm_vault.customer_secrets AS s
ORDER BY s.customer_id
LIMIT 3;

SELECT customers, readable, failure FROM crm_vault.readable();
