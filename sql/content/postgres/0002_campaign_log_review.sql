-- Campaign logs written by an assistant wait for a person: a log now has a review status, the
-- content request it answers, and the decision (who, when, why). Logs that were sent before this
-- change are `sent`.
--   sent             the messages went out (every log before this migration)
--   pending_approval drafted (the content MCP server's brief tool), waiting for human review
--   approved         a reviewer accepted the drafts
--   rejected         a reviewer turned them down
-- Promoted to columns (as content_requests.status is) so review queues can be listed by index.

ALTER TABLE content.campaign_logs
    ADD COLUMN status text NOT NULL DEFAULT 'sent',
    ADD COLUMN content_request_id uuid,
    ADD COLUMN reviewed_by text,
    ADD COLUMN reviewed_at timestamptz,
    ADD COLUMN review_note text,
    ADD CONSTRAINT campaign_logs_status_check
        CHECK (status IN ('sent', 'pending_approval', 'approved', 'rejected')),
    -- A decided draft names its reviewer and time; nothing else has a decision.
    ADD CONSTRAINT campaign_logs_review_check
        CHECK ((status IN ('approved', 'rejected')) = (reviewed_by IS NOT NULL AND reviewed_at IS NOT NULL)),
    ADD CONSTRAINT campaign_logs_review_note_check CHECK (review_note IS NULL OR reviewed_at IS NOT NULL),
    ADD CONSTRAINT campaign_logs_reviewed_by_check CHECK (char_length(reviewed_by) BETWEEN 1 AND 255),
    ADD CONSTRAINT campaign_logs_review_note_length_check CHECK (char_length(review_note) BETWEEN 1 AND 2000);

COMMENT ON COLUMN content.campaign_logs.status IS
    'sent, pending_approval (drafted, waiting for human review), approved or rejected.';
COMMENT ON COLUMN content.campaign_logs.reviewed_by IS 'Token subject of the person who approved or rejected the draft.';
COMMENT ON COLUMN content.campaign_logs.reviewed_at IS 'When the draft was approved or rejected (UTC, server clock).';
COMMENT ON COLUMN content.campaign_logs.review_note IS 'The reviewer''s reason, if given (1-2000 characters).';
COMMENT ON COLUMN content.campaign_logs.content_request_id IS
    'The content request these messages answer (content.content_requests.id), when drafted for one.';

CREATE INDEX campaign_logs_status_created_at_idx ON content.campaign_logs (organization_id, status, created_at DESC);
