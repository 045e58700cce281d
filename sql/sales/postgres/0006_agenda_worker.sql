-- =============================================================================
-- The agenda worker (worker/): what it needs to act on the planning rows safely
-- across replicas.
--
-- * Leases. Due work is claimed with `FOR UPDATE SKIP LOCKED` and a lease
--   (`lease_owner`, `lease_until`) written in the same statement; a worker that
--   dies leaves a lease that expires, and the next claim takes the row over.
--   The claim and the state live in one row of one database, so there is no
--   second system (a Redis lock) that could disagree with it.
-- * Retries. Each claim counts an attempt; a failure sets `next_attempt_at`
--   (exponential backoff) and `last_error`; after the configured number of
--   attempts the row is dead-lettered (`dead_at`) and left for a person.
-- * Approval freshness. `campaign_plans.approved_version` is the plan version
--   that was approved, recorded by a trigger when the plan becomes `approved`;
--   a later edit moves `version` past it, so the worker can tell an approval
--   that no longer covers the plan (stale) from one that does.
-- * Steps. `agenda_steps` are actions the worker runs at `run_at` once the
--   plan's approval holds (activate the campaign in PromptAds, through the
--   gateway); refusals keep their reason and are audited.
-- * Alerts. `agenda_alerts` holds one open alert per condition and subject
--   (a unique partial index), resolved when the condition no longer holds, and
--   delivered once through the same leased outbox mechanism.
-- =============================================================================

-- Reminders: the outbox columns.
ALTER TABLE sales.task_reminders
    ADD COLUMN attempts        integer     NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN lease_owner     text,
    ADD COLUMN lease_until     timestamptz,
    ADD COLUMN last_error      text,
    ADD COLUMN dead_at         timestamptz,
    ADD CONSTRAINT task_reminders_attempts_check CHECK (attempts >= 0),
    ADD CONSTRAINT task_reminders_lease_check CHECK ((lease_owner IS NULL) = (lease_until IS NULL)),
    ADD CONSTRAINT task_reminders_last_error_check CHECK (last_error IS NULL OR char_length(last_error) <= 2000),
    ADD CONSTRAINT task_reminders_sent_or_dead_check CHECK (sent_at IS NULL OR dead_at IS NULL);

-- The dispatcher's index: unsent, live reminders in time order.
DROP INDEX sales.task_reminders_remind_at_unsent_idx;
CREATE INDEX task_reminders_remind_at_unsent_idx
    ON sales.task_reminders (remind_at) WHERE sent_at IS NULL AND dead_at IS NULL;

COMMENT ON COLUMN sales.task_reminders.attempts IS 'Claims so far (the worker counts one per claim).';
COMMENT ON COLUMN sales.task_reminders.lease_until IS
    'While in the future, the worker named by lease_owner is sending it; past it, any worker may take it over.';
COMMENT ON COLUMN sales.task_reminders.dead_at IS 'Dead-lettered after the last allowed attempt; never sent automatically again.';


-- Plans: the version an approval covers.
ALTER TABLE sales.campaign_plans ADD COLUMN approved_version integer;

CREATE FUNCTION sales.record_plan_approval()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Runs after campaign_plans_bump_version (BEFORE triggers fire in name order), so
    -- NEW.version is already the version this update writes.
    IF NEW.status = 'approved' AND OLD.status IS DISTINCT FROM 'approved' THEN
        NEW.approved_version := NEW.version;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER campaign_plans_record_approval
    BEFORE UPDATE ON sales.campaign_plans
    FOR EACH ROW EXECUTE FUNCTION sales.record_plan_approval();

COMMENT ON COLUMN sales.campaign_plans.approved_version IS
    'The version the plan had when it became approved (sales.record_plan_approval); version > approved_version means edited since.';


-- Steps the worker executes once the plan's approval holds.
CREATE TABLE sales.agenda_steps (
    id               uuid        NOT NULL,
    campaign_plan_id uuid        NOT NULL,
    organization_id  uuid        NOT NULL,
    campaign_id      uuid        NOT NULL,
    kind             text        NOT NULL,
    run_at           timestamptz NOT NULL,
    status           text        NOT NULL DEFAULT 'pending',
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    lease_owner      text,
    lease_until      timestamptz,
    last_error       text,
    refusal_reason   text,
    finished_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT agenda_steps_pkey PRIMARY KEY (id),
    CONSTRAINT agenda_steps_campaign_plan_id_fkey
        FOREIGN KEY (campaign_plan_id, organization_id, campaign_id)
        REFERENCES sales.campaign_plans (id, organization_id, campaign_id) ON DELETE CASCADE,
    CONSTRAINT agenda_steps_kind_check CHECK (kind IN ('activate_campaign')),
    CONSTRAINT agenda_steps_status_check CHECK (status IN ('pending', 'done', 'refused', 'dead')),
    CONSTRAINT agenda_steps_attempts_check CHECK (attempts >= 0),
    CONSTRAINT agenda_steps_lease_check CHECK ((lease_owner IS NULL) = (lease_until IS NULL)),
    CONSTRAINT agenda_steps_refusal_check CHECK ((status = 'refused') = (refusal_reason IS NOT NULL)),
    CONSTRAINT agenda_steps_refusal_reason_check CHECK (
        refusal_reason IS NULL OR refusal_reason IN (
            'approval_missing', 'approval_rejected', 'approval_stale', 'plan_deleted', 'campaign_state')),
    CONSTRAINT agenda_steps_finished_check CHECK ((status = 'pending') = (finished_at IS NULL)),
    CONSTRAINT agenda_steps_last_error_check CHECK (last_error IS NULL OR char_length(last_error) <= 2000)
);

CREATE INDEX agenda_steps_campaign_plan_id_idx
    ON sales.agenda_steps (campaign_plan_id, organization_id, campaign_id);
-- The worker's claim: pending steps in time order.
CREATE INDEX agenda_steps_run_at_pending_idx ON sales.agenda_steps (run_at) WHERE status = 'pending';
CREATE INDEX agenda_steps_updated_at_id_idx ON sales.agenda_steps (updated_at, id);

CREATE TRIGGER agenda_steps_touch_updated_at
    BEFORE INSERT OR UPDATE ON sales.agenda_steps
    FOR EACH ROW EXECUTE FUNCTION sales.touch_updated_at();

COMMENT ON TABLE sales.agenda_steps IS
    'Actions of a campaign plan''s calendar that the agenda worker executes at run_at, only while the plan''s approval holds.';
COMMENT ON COLUMN sales.agenda_steps.refusal_reason IS
    'Why the worker refused to run it (also in sales.audit_log): no approval, a rejection, an approval older than the plan, a deleted plan, or a campaign that cannot make the move.';


-- Alerts the worker raises and delivers.
CREATE TABLE sales.agenda_alerts (
    id              uuid        NOT NULL,
    organization_id uuid        NOT NULL,
    kind            text        NOT NULL,
    subject_id      uuid        NOT NULL,
    campaign_id     uuid,
    details         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    raised_at       timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    notified_at     timestamptz,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    lease_owner     text,
    lease_until     timestamptz,
    last_error      text,
    dead_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT agenda_alerts_pkey PRIMARY KEY (id),
    CONSTRAINT agenda_alerts_organization_id_fkey
        FOREIGN KEY (organization_id) REFERENCES sales.organizations (id),
    CONSTRAINT agenda_alerts_kind_check CHECK (
        kind IN ('task_overdue', 'approval_overdue', 'roi_below_threshold', 'negative_sentiment_above_threshold')),
    CONSTRAINT agenda_alerts_details_check CHECK (jsonb_typeof(details) = 'object'),
    CONSTRAINT agenda_alerts_resolved_at_check CHECK (resolved_at IS NULL OR resolved_at >= raised_at),
    CONSTRAINT agenda_alerts_attempts_check CHECK (attempts >= 0),
    CONSTRAINT agenda_alerts_lease_check CHECK ((lease_owner IS NULL) = (lease_until IS NULL)),
    CONSTRAINT agenda_alerts_last_error_check CHECK (last_error IS NULL OR char_length(last_error) <= 2000),
    CONSTRAINT agenda_alerts_notified_or_dead_check CHECK (notified_at IS NULL OR dead_at IS NULL)
);

-- One open alert per condition and subject: raising is INSERT … ON CONFLICT DO NOTHING,
-- safe when several workers evaluate at once.
CREATE UNIQUE INDEX agenda_alerts_kind_subject_id_open_key
    ON sales.agenda_alerts (kind, subject_id) WHERE resolved_at IS NULL;
CREATE INDEX agenda_alerts_organization_id_raised_at_idx ON sales.agenda_alerts (organization_id, raised_at DESC);
-- The delivery claim: alerts not yet delivered, oldest first.
CREATE INDEX agenda_alerts_raised_at_unnotified_idx
    ON sales.agenda_alerts (raised_at) WHERE notified_at IS NULL AND dead_at IS NULL;

CREATE TRIGGER agenda_alerts_touch_updated_at
    BEFORE INSERT OR UPDATE ON sales.agenda_alerts
    FOR EACH ROW EXECUTE FUNCTION sales.touch_updated_at();

COMMENT ON TABLE sales.agenda_alerts IS
    'Conditions the agenda worker raised (an overdue task or approval, ROI or negative sentiment past a threshold); one open alert per kind and subject.';
