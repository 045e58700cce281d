-- =============================================================================
-- Optimistic concurrency for the planning rows the portal edits.
--
-- The portal reads a plan, an approval step or a task, and writes it back
-- later (decideApproval, completeTask, future plan edits). A `version` that
-- the store itself moves on every UPDATE lets a write say which state it was
-- decided on (`expectedVersion`) and fail with a conflict instead of silently
-- overwriting a change made meanwhile. Kept by a trigger, like updated_at, so no
-- writer can forget to move it.
-- =============================================================================

CREATE FUNCTION sales.bump_version()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION sales.bump_version() IS
    'BEFORE UPDATE row trigger: version := OLD.version + 1 (optimistic concurrency; callers cannot set it).';

ALTER TABLE sales.campaign_plans
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    ADD CONSTRAINT campaign_plans_version_check CHECK (version >= 1);
ALTER TABLE sales.approvals
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    ADD CONSTRAINT approvals_version_check CHECK (version >= 1);
ALTER TABLE sales.scheduled_tasks
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    ADD CONSTRAINT scheduled_tasks_version_check CHECK (version >= 1);

CREATE TRIGGER campaign_plans_bump_version
    BEFORE UPDATE ON sales.campaign_plans
    FOR EACH ROW EXECUTE FUNCTION sales.bump_version();
CREATE TRIGGER approvals_bump_version
    BEFORE UPDATE ON sales.approvals
    FOR EACH ROW EXECUTE FUNCTION sales.bump_version();
CREATE TRIGGER scheduled_tasks_bump_version
    BEFORE UPDATE ON sales.scheduled_tasks
    FOR EACH ROW EXECUTE FUNCTION sales.bump_version();

COMMENT ON COLUMN sales.campaign_plans.version IS
    'Starts at 1, moved by the store on every UPDATE (sales.bump_version); writes may require an expected version.';
COMMENT ON COLUMN sales.approvals.version IS
    'Starts at 1, moved by the store on every UPDATE (sales.bump_version); decideApproval may require an expected version.';
COMMENT ON COLUMN sales.scheduled_tasks.version IS
    'Starts at 1, moved by the store on every UPDATE (sales.bump_version).';
