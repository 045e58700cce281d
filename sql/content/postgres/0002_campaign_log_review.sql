-- Campaign logs written by an assistant wait for a person: a log now has a review status, and the
-- content request it answers. Logs that were sent before this change are `sent`.
--   sent             the messages went out (every log before this migration)
--   pending_approval drafted (the content MCP server's brief tool), waiting for human review
--   approved         a reviewer accepted the drafts
--   rejected         a reviewer turned them down
-- Promoted to columns (as content_requests.status is) so review queues can be listed by index.

ALTER TABLE content.campaign_logs
    ADD COLUMN status text NOT NULL DEFAULT 'sent',
    ADD COLUMN content_request_id uuid,
    ADD CONSTRAINT campaign_logs_status_check
        CHECK (status IN ('sent', 'pending_approval', 'approved', 'rejected'));

COMMENT ON COLUMN content.campaign_logs.status IS
    'sent, pending_approval (drafted, waiting for human review), approved or rejected.';
COMMENT ON COLUMN content.campaign_logs.content_request_id IS
    'The content request these messages answer (content.content_requests.id), when drafted for one.';

CREATE INDEX campaign_logs_status_created_at_idx ON content.campaign_logs (organization_id, status, created_at DESC);
