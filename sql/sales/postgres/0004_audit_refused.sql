-- =============================================================================
-- Audit records of requests the gateway refused before reading them: a bad or
-- missing bearer token (401), a CSRF refusal and an unsupported media type
-- (415). They get their own outcome, `refused`, so a security review can tell
-- them from operations that ran and were denied a field (`denied`).
-- =============================================================================

ALTER TABLE sales.audit_log DROP CONSTRAINT audit_log_outcome_check;
ALTER TABLE sales.audit_log ADD CONSTRAINT audit_log_outcome_check
    CHECK (outcome IN ('success', 'denied', 'error', 'refused'));
