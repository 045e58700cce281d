-- =============================================================================
-- PromptSales central store (PostgreSQL 15+), schema `sales`.
--
-- Contract: docs/data-model.md. Ids are UUIDs supplied by the application
-- (no extensions, no defaults on ids); money is numeric; times are timestamptz
-- (UTC); `updated_at` is set by the store in a trigger; deletions are
-- tombstones (`deleted_at`); every foreign key has an index led by its columns.
--
-- Applied by the sqlx migrator in ONE transaction: nothing here may need to
-- run outside a transaction (no CONCURRENTLY, no VACUUM).
-- =============================================================================

CREATE SCHEMA sales;

COMMENT ON SCHEMA sales IS
    'PromptSales central store: tenants, catalogue, subscriptions, portal users, campaign planning, '
    'ETL-loaded campaign read models, audit log and AI usage.';


-- =============================================================================
-- Shared trigger functions
-- =============================================================================

-- Keeps updated_at honest: the store, not the caller, stamps every change, so
-- `...UpdatedSince` readers can never miss a back-dated write. clock_timestamp()
-- (not now()) so rows changed later in a long transaction sort after earlier ones.
CREATE FUNCTION sales.touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.updated_at := clock_timestamp();
    IF TG_OP = 'UPDATE' THEN
        -- created_at is write-once.
        NEW.created_at := OLD.created_at;
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION sales.touch_updated_at() IS
    'BEFORE INSERT OR UPDATE row trigger: sets updated_at := clock_timestamp() and keeps created_at unchanged on UPDATE.';

-- Guard for append-only tables (audit_log, ai_usage). UPDATE is always refused.
-- DELETE / TRUNCATE are refused unless the transaction has opted in with
--   SET LOCAL sales.maintenance = 'on'
-- which only the retention / partition-maintenance code does. This protects
-- against application bugs and careless ad-hoc SQL; the security boundary is
-- still privileges (application roles get INSERT and SELECT only).
CREATE FUNCTION sales.reject_append_only_change()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE')
       AND coalesce(current_setting('sales.maintenance', true), '') = 'on' THEN
        IF TG_LEVEL = 'ROW' THEN
            RETURN OLD;
        END IF;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'insufficient_privilege',
        MESSAGE = format('%I.%I is append-only: %s is not allowed', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP),
        HINT    = 'Retention runs through sales.drop_audit_partitions_before() or a maintenance transaction.';
END
$$;

COMMENT ON FUNCTION sales.reject_append_only_change() IS
    'Append-only guard: rejects UPDATE always, DELETE/TRUNCATE unless SET LOCAL sales.maintenance = ''on''.';


-- =============================================================================
-- Tenants and catalogue: organizations, brands, products, contacts
-- =============================================================================

CREATE TABLE sales.organizations (
    id           uuid        NOT NULL,
    name         text        NOT NULL,
    legal_name   text,
    tax_id       text,
    country_code char(2)     NOT NULL,
    industry     text,
    status       text        NOT NULL DEFAULT 'active',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    deleted_at   timestamptz,
    CONSTRAINT organizations_pkey PRIMARY KEY (id),
    CONSTRAINT organizations_name_check         CHECK (char_length(btrim(name)) BETWEEN 1 AND 200),
    CONSTRAINT organizations_legal_name_check   CHECK (legal_name IS NULL OR char_length(btrim(legal_name)) BETWEEN 1 AND 300),
    CONSTRAINT organizations_tax_id_check       CHECK (tax_id IS NULL OR char_length(btrim(tax_id)) BETWEEN 1 AND 50),
    CONSTRAINT organizations_country_code_check CHECK (country_code ~ '^[A-Z]{2}$'),
    CONSTRAINT organizations_industry_check     CHECK (industry IS NULL OR char_length(btrim(industry)) BETWEEN 1 AND 100),
    CONSTRAINT organizations_status_check       CHECK (status IN ('active', 'suspended', 'closed')),
    CONSTRAINT organizations_deleted_at_check   CHECK (deleted_at IS NULL OR deleted_at >= created_at)
);

-- Display names are unique case-insensitively among live tenants; a deleted
-- tenant's name can be reused.
CREATE UNIQUE INDEX organizations_lower_name_key
    ON sales.organizations (lower(name)) WHERE deleted_at IS NULL;
-- Keyset pagination for organizationsUpdatedSince and the brand/product sync to ads.
CREATE INDEX organizations_updated_at_id_idx ON sales.organizations (updated_at, id);

COMMENT ON TABLE sales.organizations IS
    'Customer organizations (tenants). Every tenant-owned row in every store carries organization_id.';
COMMENT ON COLUMN sales.organizations.tax_id IS
    'Company tax registration number (business identifier, not personal data), as printed on invoices.';
COMMENT ON COLUMN sales.organizations.country_code IS 'ISO 3166-1 alpha-2, upper case.';
COMMENT ON COLUMN sales.organizations.status IS
    'Commercial state: active | suspended (unpaid, read-only portal) | closed. Independent of the deleted_at tombstone.';


CREATE TABLE sales.brands (
    id              uuid        NOT NULL,
    organization_id uuid        NOT NULL,
    name            text        NOT NULL,
    description     text,
    website         text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    deleted_at      timestamptz,
    CONSTRAINT brands_pkey PRIMARY KEY (id),
    -- Target of the (brand_id, organization_id) foreign keys that keep
    -- denormalised organization_id columns consistent.
    CONSTRAINT brands_id_organization_id_key UNIQUE (id, organization_id),
    CONSTRAINT brands_organization_id_fkey
        FOREIGN KEY (organization_id) REFERENCES sales.organizations (id),
    CONSTRAINT brands_name_check        CHECK (char_length(btrim(name)) BETWEEN 1 AND 200),
    CONSTRAINT brands_description_check CHECK (description IS NULL OR char_length(description) <= 4000),
    CONSTRAINT brands_website_check     CHECK (website IS NULL OR (website ~* '^https?://[^[:space:]]+$' AND char_length(website) <= 2048)),
    CONSTRAINT brands_deleted_at_check  CHECK (deleted_at IS NULL OR deleted_at >= created_at)
);

CREATE INDEX brands_organization_id_idx ON sales.brands (organization_id);
CREATE UNIQUE INDEX brands_organization_id_lower_name_key
    ON sales.brands (organization_id, lower(name)) WHERE deleted_at IS NULL;
CREATE INDEX brands_updated_at_id_idx ON sales.brands (updated_at, id);

COMMENT ON TABLE sales.brands IS
    'Brands of an organization. Source of truth; PromptAds keeps a reference copy written by the sync.';


CREATE TABLE sales.products (
    id              uuid          NOT NULL,
    brand_id        uuid          NOT NULL,
    organization_id uuid          NOT NULL,
    sku             text          NOT NULL,
    name            text          NOT NULL,
    description     text,
    category        text,
    unit_price      numeric(12,2) NOT NULL,
    currency        char(3)       NOT NULL DEFAULT 'USD',
    active          boolean       NOT NULL DEFAULT true,
    created_at      timestamptz   NOT NULL DEFAULT now(),
    updated_at      timestamptz   NOT NULL DEFAULT clock_timestamp(),
    deleted_at      timestamptz,
    CONSTRAINT products_pkey PRIMARY KEY (id),
    -- Targets for campaign tables, which must reference a product of the same
    -- organization (and of the same brand).
    CONSTRAINT products_id_organization_id_key UNIQUE (id, organization_id),
    CONSTRAINT products_id_brand_id_organization_id_key UNIQUE (id, brand_id, organization_id),
    CONSTRAINT products_organization_id_fkey
        FOREIGN KEY (organization_id) REFERENCES sales.organizations (id),
    -- The product's organization must be its brand's organization.
    CONSTRAINT products_brand_id_organization_id_fkey
        FOREIGN KEY (brand_id, organization_id) REFERENCES sales.brands (id, organization_id),
    CONSTRAINT products_sku_check         CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$'),
    CONSTRAINT products_name_check        CHECK (char_length(btrim(name)) BETWEEN 1 AND 200),
    CONSTRAINT products_description_check CHECK (description IS NULL OR char_length(description) <= 4000),
    CONSTRAINT products_category_check    CHECK (category IS NULL OR char_length(btrim(category)) BETWEEN 1 AND 100),
    CONSTRAINT products_unit_price_check  CHECK (unit_price >= 0),
    CONSTRAINT products_currency_check    CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT products_deleted_at_check  CHECK (deleted_at IS NULL OR deleted_at >= created_at)
);

-- Leads with organization_id (tenant filter, organization FK) and covers the
-- (brand_id, organization_id) FK: "products of this brand" always knows the tenant.
CREATE INDEX products_organization_id_brand_id_idx ON sales.products (organization_id, brand_id);
CREATE UNIQUE INDEX products_organization_id_sku_key
    ON sales.products (organization_id, sku) WHERE deleted_at IS NULL;
CREATE INDEX products_updated_at_id_idx ON sales.products (updated_at, id);

COMMENT ON TABLE sales.products IS
    'Products sold under a brand. organization_id is denormalised for tenant filters and forced to match the brand''s.';
COMMENT ON COLUMN sales.products.unit_price IS 'List price in `currency` (numeric(12,2), never float).';
COMMENT ON COLUMN sales.products.currency   IS 'ISO 4217 code of unit_price.';


CREATE TABLE sales.contacts (
    id              uuid        NOT NULL,
    organization_id uuid        NOT NULL,
    full_name       text        NOT NULL,
    job_title       text,
    email_enc       bytea,
    email_bidx      bytea,
    phone_enc       bytea,
    pii_key_id      text,
    is_primary      boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    deleted_at      timestamptz,
    CONSTRAINT contacts_pkey PRIMARY KEY (id),
    CONSTRAINT contacts_organization_id_fkey
        FOREIGN KEY (organization_id) REFERENCES sales.organizations (id),
    CONSTRAINT contacts_full_name_check  CHECK (char_length(btrim(full_name)) BETWEEN 1 AND 200),
    CONSTRAINT contacts_job_title_check  CHECK (job_title IS NULL OR char_length(btrim(job_title)) BETWEEN 1 AND 150),
    CONSTRAINT contacts_email_bidx_check CHECK (email_bidx IS NULL OR octet_length(email_bidx) = 32),
    -- Ciphertext and its blind index come together.
    CONSTRAINT contacts_email_pair_check CHECK ((email_enc IS NULL) = (email_bidx IS NULL)),
    -- Ciphertext is useless without the name of the key that wraps it.
    CONSTRAINT contacts_pii_key_id_check CHECK (
        (email_enc IS NULL AND phone_enc IS NULL)
        OR (pii_key_id IS NOT NULL AND char_length(pii_key_id) BETWEEN 1 AND 200)),
    CONSTRAINT contacts_deleted_at_check CHECK (deleted_at IS NULL OR deleted_at >= created_at)
);

CREATE INDEX contacts_organization_id_idx ON sales.contacts (organization_id);
-- At most one live primary contact per organization.
CREATE UNIQUE INDEX contacts_organization_id_primary_key
    ON sales.contacts (organization_id) WHERE is_primary AND deleted_at IS NULL;
-- Lookup by blind index ("is this e-mail already a contact?"), unique per tenant.
CREATE UNIQUE INDEX contacts_organization_id_email_bidx_key
    ON sales.contacts (organization_id, email_bidx) WHERE email_bidx IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX contacts_updated_at_id_idx ON sales.contacts (updated_at, id);

COMMENT ON TABLE sales.contacts IS
    'People at a customer organization (billing, marketing). E-mail and phone are stored encrypted by the application.';
COMMENT ON COLUMN sales.contacts.email_enc  IS 'AES-256-GCM ciphertext of the e-mail address (envelope encryption; key named by pii_key_id).';
COMMENT ON COLUMN sales.contacts.email_bidx IS 'HMAC-SHA256 blind index of the normalised e-mail (32 bytes) for lookup and uniqueness.';
COMMENT ON COLUMN sales.contacts.phone_enc  IS 'AES-256-GCM ciphertext of the phone number.';
COMMENT ON COLUMN sales.contacts.pii_key_id IS 'Id of the data key that encrypts this row''s PII.';


-- =============================================================================
-- Plans and subscriptions
-- =============================================================================

CREATE TABLE sales.subscription_plans (
    id            uuid          NOT NULL,
    code          text          NOT NULL,
    subsidiary    text          NOT NULL,
    tier          text          NOT NULL,
    name          text          NOT NULL,
    monthly_price numeric(12,2) NOT NULL,
    annual_price  numeric(12,2) NOT NULL,
    limits        jsonb         NOT NULL DEFAULT '{}'::jsonb,
    active        boolean       NOT NULL DEFAULT true,
    created_at    timestamptz   NOT NULL DEFAULT now(),
    updated_at    timestamptz   NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT subscription_plans_pkey PRIMARY KEY (id),
    CONSTRAINT subscription_plans_code_key UNIQUE (code),
    CONSTRAINT subscription_plans_code_check          CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    CONSTRAINT subscription_plans_subsidiary_check    CHECK (subsidiary IN ('content', 'ads', 'crm', 'bundle')),
    CONSTRAINT subscription_plans_tier_check          CHECK (tier IN ('starter', 'growth', 'enterprise')),
    CONSTRAINT subscription_plans_name_check          CHECK (char_length(btrim(name)) BETWEEN 1 AND 200),
    CONSTRAINT subscription_plans_monthly_price_check CHECK (monthly_price >= 0),
    CONSTRAINT subscription_plans_annual_price_check  CHECK (annual_price >= 0),
    CONSTRAINT subscription_plans_limits_check        CHECK (jsonb_typeof(limits) = 'object')
);

CREATE INDEX subscription_plans_updated_at_id_idx ON sales.subscription_plans (updated_at, id);

COMMENT ON TABLE sales.subscription_plans IS
    'Price list. Reference data: id = UUIDv5(code) under PROMPTSALES_NS, identical in every store. '
    'Plans are retired with active = false, never deleted (subscriptions reference them).';
COMMENT ON COLUMN sales.subscription_plans.monthly_price IS 'USD per month.';
COMMENT ON COLUMN sales.subscription_plans.annual_price  IS 'USD per year when billed annually.';
COMMENT ON COLUMN sales.subscription_plans.limits IS
    'Quotas enforced by the services, e.g. {"campaigns": 50, "seats": 10}; a missing key means unlimited.';


CREATE TABLE sales.subscriptions (
    id                 uuid        NOT NULL,
    organization_id    uuid        NOT NULL,
    plan_id            uuid        NOT NULL,
    status             text        NOT NULL DEFAULT 'trialing',
    started_at         timestamptz NOT NULL,
    current_period_end timestamptz NOT NULL,
    cancelled_at       timestamptz,
    seats              integer     NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    deleted_at         timestamptz,
    CONSTRAINT subscriptions_pkey PRIMARY KEY (id),
    CONSTRAINT subscriptions_organization_id_fkey
        FOREIGN KEY (organization_id) REFERENCES sales.organizations (id),
    CONSTRAINT subscriptions_plan_id_fkey
        FOREIGN KEY (plan_id) REFERENCES sales.subscription_plans (id),
    CONSTRAINT subscriptions_status_check CHECK (status IN ('trialing', 'active', 'past_due', 'cancelled', 'expired')),
    CONSTRAINT subscriptions_period_check CHECK (current_period_end > started_at),
    -- A cancelled subscription says when; an active one may carry a scheduled
    -- cancellation (cancel at period end), so the converse is not required.
    CONSTRAINT subscriptions_cancelled_at_check CHECK (
        (status <> 'cancelled' OR cancelled_at IS NOT NULL)
        AND (cancelled_at IS NULL OR cancelled_at >= started_at)),
    CONSTRAINT subscriptions_seats_check      CHECK (seats > 0),
    CONSTRAINT subscriptions_deleted_at_check CHECK (deleted_at IS NULL OR deleted_at >= created_at)
);

CREATE INDEX subscriptions_organization_id_status_idx ON sales.subscriptions (organization_id, status);
CREATE INDEX subscriptions_plan_id_idx ON sales.subscriptions (plan_id);
-- One open subscription per organization and plan; cancelled/expired ones stay as history.
CREATE UNIQUE INDEX subscriptions_organization_id_plan_id_open_key
    ON sales.subscriptions (organization_id, plan_id)
    WHERE status IN ('trialing', 'active', 'past_due') AND deleted_at IS NULL;
-- Billing job: open subscriptions whose period ends soonest.
CREATE INDEX subscriptions_current_period_end_open_idx
    ON sales.subscriptions (current_period_end)
    WHERE status IN ('trialing', 'active', 'past_due') AND deleted_at IS NULL;
CREATE INDEX subscriptions_updated_at_id_idx ON sales.subscriptions (updated_at, id);

COMMENT ON TABLE sales.subscriptions IS
    'An organization''s subscription to a plan. History is kept: renewals move current_period_end, cancellations set status.';
COMMENT ON COLUMN sales.subscriptions.cancelled_at IS
    'When the cancellation was requested; may be set while still active (cancel at period end).';


-- =============================================================================
-- Portal users (customer users and PromptSales staff)
-- =============================================================================

CREATE TABLE sales.portal_users (
    id              uuid        NOT NULL,
    organization_id uuid,
    email_enc       bytea       NOT NULL,
    email_bidx      bytea       NOT NULL,
    display_name    text        NOT NULL,
    role            text        NOT NULL,
    status          text        NOT NULL DEFAULT 'invited',
    last_login_at   timestamptz,
    pii_key_id      text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    deleted_at      timestamptz,
    CONSTRAINT portal_users_pkey PRIMARY KEY (id),
    CONSTRAINT portal_users_organization_id_fkey
        FOREIGN KEY (organization_id) REFERENCES sales.organizations (id),
    CONSTRAINT portal_users_email_bidx_check   CHECK (octet_length(email_bidx) = 32),
    CONSTRAINT portal_users_display_name_check CHECK (char_length(btrim(display_name)) BETWEEN 1 AND 200),
    CONSTRAINT portal_users_role_check   CHECK (role IN ('owner', 'admin', 'marketer', 'analyst', 'viewer', 'staff')),
    -- Staff belong to no customer organization; everybody else belongs to exactly one.
    CONSTRAINT portal_users_staff_check  CHECK ((role = 'staff') = (organization_id IS NULL)),
    CONSTRAINT portal_users_status_check CHECK (status IN ('invited', 'active', 'disabled')),
    CONSTRAINT portal_users_pii_key_id_check CHECK (char_length(pii_key_id) BETWEEN 1 AND 200),
    CONSTRAINT portal_users_deleted_at_check CHECK (deleted_at IS NULL OR deleted_at >= created_at)
);

CREATE INDEX portal_users_organization_id_idx ON sales.portal_users (organization_id);
-- Sign-in and invitation lookup by blind index; one live account per e-mail.
CREATE UNIQUE INDEX portal_users_email_bidx_key
    ON sales.portal_users (email_bidx) WHERE deleted_at IS NULL;
CREATE INDEX portal_users_updated_at_id_idx ON sales.portal_users (updated_at, id);

COMMENT ON TABLE sales.portal_users IS
    'Users of the PromptSales portal. organization_id NULL means PromptSales staff (role = staff).';
COMMENT ON COLUMN sales.portal_users.email_enc  IS 'AES-256-GCM ciphertext of the e-mail address.';
COMMENT ON COLUMN sales.portal_users.email_bidx IS 'HMAC-SHA256 blind index of the normalised e-mail (32 bytes).';


-- =============================================================================
-- Campaign planning: plans, approvals, scheduled tasks, reminders
-- =============================================================================

CREATE TABLE sales.campaign_plans (
    id              uuid          NOT NULL,
    campaign_id     uuid          NOT NULL,
    organization_id uuid          NOT NULL,
    brand_id        uuid          NOT NULL,
    product_id      uuid,
    title           text          NOT NULL,
    objective       text,
    target_summary  text,
    planned_budget  numeric(14,2) NOT NULL,
    planned_start   timestamptz   NOT NULL,
    planned_end     timestamptz   NOT NULL,
    status          text          NOT NULL DEFAULT 'draft',
    created_by      uuid          NOT NULL,
    created_at      timestamptz   NOT NULL DEFAULT now(),
    updated_at      timestamptz   NOT NULL DEFAULT clock_timestamp(),
    deleted_at      timestamptz,
    CONSTRAINT campaign_plans_pkey PRIMARY KEY (id),
    -- Targets for child rows that denormalise the tenant (approvals) and the
    -- campaign id as well (scheduled_tasks).
    CONSTRAINT campaign_plans_id_organization_id_key UNIQUE (id, organization_id),
    CONSTRAINT campaign_plans_id_organization_id_campaign_id_key UNIQUE (id, organization_id, campaign_id),
    CONSTRAINT campaign_plans_organization_id_fkey
        FOREIGN KEY (organization_id) REFERENCES sales.organizations (id),
    CONSTRAINT campaign_plans_brand_id_organization_id_fkey
        FOREIGN KEY (brand_id, organization_id) REFERENCES sales.brands (id, organization_id),
    -- The product (when given) belongs to the plan's brand and organization.
    CONSTRAINT campaign_plans_product_id_brand_id_organization_id_fkey
        FOREIGN KEY (product_id, brand_id, organization_id)
        REFERENCES sales.products (id, brand_id, organization_id),
    CONSTRAINT campaign_plans_created_by_fkey
        FOREIGN KEY (created_by) REFERENCES sales.portal_users (id),
    CONSTRAINT campaign_plans_title_check          CHECK (char_length(btrim(title)) BETWEEN 1 AND 200),
    CONSTRAINT campaign_plans_objective_check      CHECK (objective IS NULL OR char_length(objective) <= 1000),
    CONSTRAINT campaign_plans_target_summary_check CHECK (target_summary IS NULL OR char_length(target_summary) <= 4000),
    CONSTRAINT campaign_plans_planned_budget_check CHECK (planned_budget > 0),
    CONSTRAINT campaign_plans_planned_dates_check  CHECK (planned_end > planned_start),
    CONSTRAINT campaign_plans_status_check CHECK (status IN ('draft', 'in_review', 'approved', 'rejected', 'launched', 'closed')),
    CONSTRAINT campaign_plans_deleted_at_check CHECK (deleted_at IS NULL OR deleted_at >= created_at)
);

-- Tenant list ("my plans by status, latest first"); also covers the organization FK.
CREATE INDEX campaign_plans_organization_id_status_planned_start_idx
    ON sales.campaign_plans (organization_id, status, planned_start DESC);
CREATE INDEX campaign_plans_brand_id_organization_id_idx ON sales.campaign_plans (brand_id, organization_id);
CREATE INDEX campaign_plans_product_id_brand_id_organization_id_idx
    ON sales.campaign_plans (product_id, brand_id, organization_id);
CREATE INDEX campaign_plans_created_by_idx ON sales.campaign_plans (created_by);
-- One live plan per PromptAds campaign (Campaign.plan resolves through it).
CREATE UNIQUE INDEX campaign_plans_campaign_id_key
    ON sales.campaign_plans (campaign_id) WHERE deleted_at IS NULL;
CREATE INDEX campaign_plans_updated_at_id_idx ON sales.campaign_plans (updated_at, id);

COMMENT ON TABLE sales.campaign_plans IS
    'A campaign as planned and approved in PromptSales before (and while) PromptAds runs it.';
COMMENT ON COLUMN sales.campaign_plans.campaign_id IS
    'Id of the PromptAds campaign (same id in every store; no FK, the row lives in ads). Chosen when the plan is created.';
COMMENT ON COLUMN sales.campaign_plans.planned_budget IS 'USD.';


CREATE TABLE sales.approvals (
    id               uuid        NOT NULL,
    campaign_plan_id uuid        NOT NULL,
    organization_id  uuid        NOT NULL,
    step             smallint    NOT NULL,
    approver_id      uuid        NOT NULL,
    decision         text        NOT NULL DEFAULT 'pending',
    comment          text,
    requested_at     timestamptz NOT NULL DEFAULT now(),
    decided_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT approvals_pkey PRIMARY KEY (id),
    CONSTRAINT approvals_campaign_plan_id_step_key UNIQUE (campaign_plan_id, step),
    -- Approval steps are part of the plan; a hard purge of a plan takes them along.
    CONSTRAINT approvals_campaign_plan_id_organization_id_fkey
        FOREIGN KEY (campaign_plan_id, organization_id)
        REFERENCES sales.campaign_plans (id, organization_id) ON DELETE CASCADE,
    CONSTRAINT approvals_approver_id_fkey
        FOREIGN KEY (approver_id) REFERENCES sales.portal_users (id),
    CONSTRAINT approvals_step_check     CHECK (step >= 1),
    CONSTRAINT approvals_decision_check CHECK (decision IN ('pending', 'approved', 'rejected', 'changes_requested')),
    CONSTRAINT approvals_decided_at_check CHECK (
        (decision = 'pending') = (decided_at IS NULL)
        AND (decided_at IS NULL OR decided_at >= requested_at)),
    CONSTRAINT approvals_comment_check CHECK (comment IS NULL OR char_length(comment) <= 4000)
);

-- Covers the composite plan FK (and the plan's steps in order via the unique key).
CREATE INDEX approvals_campaign_plan_id_organization_id_idx ON sales.approvals (campaign_plan_id, organization_id);
-- "Approvals waiting for me" and the approver FK.
CREATE INDEX approvals_approver_id_decision_idx ON sales.approvals (approver_id, decision);
CREATE INDEX approvals_organization_id_idx ON sales.approvals (organization_id);
CREATE INDEX approvals_updated_at_id_idx ON sales.approvals (updated_at, id);

COMMENT ON TABLE sales.approvals IS
    'Sign-off steps of a campaign plan, one row per step. Rows are decided, never deleted (no tombstone).';
COMMENT ON COLUMN sales.approvals.organization_id IS
    'Denormalised tenant of the plan (forced equal by the composite FK) so Approval entities filter by organization.';
COMMENT ON COLUMN sales.approvals.decided_at IS 'Set exactly when decision is not pending.';


CREATE TABLE sales.scheduled_tasks (
    id               uuid        NOT NULL,
    campaign_plan_id uuid        NOT NULL,
    organization_id  uuid        NOT NULL,
    campaign_id      uuid        NOT NULL,
    title            text        NOT NULL,
    kind             text        NOT NULL DEFAULT 'other',
    due_at           timestamptz NOT NULL,
    assignee_id      uuid,
    status           text        NOT NULL DEFAULT 'pending',
    completed_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    deleted_at       timestamptz,
    CONSTRAINT scheduled_tasks_pkey PRIMARY KEY (id),
    -- Tenant and campaign id are copies of the plan's, enforced by one composite FK
    -- (name shortened from <table>_<cols>_fkey: identifiers stop at 63 bytes).
    CONSTRAINT scheduled_tasks_campaign_plan_id_fkey
        FOREIGN KEY (campaign_plan_id, organization_id, campaign_id)
        REFERENCES sales.campaign_plans (id, organization_id, campaign_id) ON DELETE CASCADE,
    CONSTRAINT scheduled_tasks_assignee_id_fkey
        FOREIGN KEY (assignee_id) REFERENCES sales.portal_users (id),
    CONSTRAINT scheduled_tasks_title_check  CHECK (char_length(btrim(title)) BETWEEN 1 AND 200),
    CONSTRAINT scheduled_tasks_kind_check   CHECK (kind IN ('creative', 'review', 'launch', 'report', 'follow_up', 'other')),
    CONSTRAINT scheduled_tasks_status_check CHECK (status IN ('pending', 'in_progress', 'done', 'cancelled')),
    CONSTRAINT scheduled_tasks_completed_at_check CHECK ((status = 'done') = (completed_at IS NOT NULL)),
    CONSTRAINT scheduled_tasks_deleted_at_check   CHECK (deleted_at IS NULL OR deleted_at >= created_at)
);

CREATE INDEX scheduled_tasks_campaign_plan_id_idx
    ON sales.scheduled_tasks (campaign_plan_id, organization_id, campaign_id);
CREATE INDEX scheduled_tasks_assignee_id_status_idx ON sales.scheduled_tasks (assignee_id, status);
-- "What is due" across all tenants (staff dashboards, reminder planning).
CREATE INDEX scheduled_tasks_status_due_at_open_idx
    ON sales.scheduled_tasks (status, due_at)
    WHERE status IN ('pending', 'in_progress') AND deleted_at IS NULL;
-- "What is due" for one tenant.
CREATE INDEX scheduled_tasks_organization_id_due_at_open_idx
    ON sales.scheduled_tasks (organization_id, due_at)
    WHERE status IN ('pending', 'in_progress') AND deleted_at IS NULL;
-- Campaign.schedule resolves by campaign id.
CREATE INDEX scheduled_tasks_campaign_id_due_at_idx ON sales.scheduled_tasks (campaign_id, due_at);
CREATE INDEX scheduled_tasks_updated_at_id_idx ON sales.scheduled_tasks (updated_at, id);

COMMENT ON TABLE sales.scheduled_tasks IS
    'Work items on a campaign plan''s calendar (creative, review, launch, report, follow-up).';
COMMENT ON COLUMN sales.scheduled_tasks.campaign_id IS
    'Copy of the plan''s PromptAds campaign id (kept equal by the composite FK) for Campaign.schedule.';
COMMENT ON COLUMN sales.scheduled_tasks.completed_at IS 'Set exactly when status = done.';


CREATE TABLE sales.task_reminders (
    id         uuid        NOT NULL,
    task_id    uuid        NOT NULL,
    remind_at  timestamptz NOT NULL,
    channel    text        NOT NULL DEFAULT 'portal',
    sent_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT task_reminders_pkey PRIMARY KEY (id),
    -- The same reminder is not scheduled twice; also covers the task FK.
    CONSTRAINT task_reminders_task_id_remind_at_channel_key UNIQUE (task_id, remind_at, channel),
    CONSTRAINT task_reminders_task_id_fkey
        FOREIGN KEY (task_id) REFERENCES sales.scheduled_tasks (id) ON DELETE CASCADE,
    CONSTRAINT task_reminders_channel_check CHECK (channel IN ('email', 'sms', 'portal'))
);

-- Reminder dispatcher: unsent reminders in time order; stays small because
-- sent rows drop out of the partial index.
CREATE INDEX task_reminders_remind_at_unsent_idx
    ON sales.task_reminders (remind_at) WHERE sent_at IS NULL;

COMMENT ON TABLE sales.task_reminders IS
    'Reminders for a scheduled task. The dispatcher claims due rows (remind_at <= now(), sent_at IS NULL) '
    'with FOR UPDATE SKIP LOCKED, sends them and sets sent_at. Reached only through its task, so it has no organization_id.';


-- =============================================================================
-- Campaign read models (filled by the ETL from the ads and crm subgraphs)
-- =============================================================================

CREATE TABLE sales.campaign_summaries (
    campaign_id        uuid          NOT NULL,
    organization_id    uuid          NOT NULL,
    brand_id           uuid          NOT NULL,
    product_id         uuid,
    name               text          NOT NULL,
    status             text          NOT NULL,
    starts_at          timestamptz   NOT NULL,
    ends_at            timestamptz   NOT NULL,
    budget             numeric(14,2) NOT NULL,
    reach              bigint        NOT NULL DEFAULT 0,
    customers_reached  bigint        NOT NULL DEFAULT 0,
    views              bigint        NOT NULL DEFAULT 0,
    interactions       bigint        NOT NULL DEFAULT 0,
    likes              bigint        NOT NULL DEFAULT 0,
    sales_count        bigint        NOT NULL DEFAULT 0,
    revenue            numeric(14,2) NOT NULL DEFAULT 0,
    cost               numeric(14,2) NOT NULL DEFAULT 0,
    roi                numeric(12,4),
    success_rate       numeric(7,6),
    positive_reactions bigint        NOT NULL DEFAULT 0,
    negative_reactions bigint        NOT NULL DEFAULT 0,
    channels           text[]        NOT NULL DEFAULT '{}',
    markets            text[]        NOT NULL DEFAULT '{}',
    source_updated_at  timestamptz   NOT NULL,
    refreshed_at       timestamptz   NOT NULL,
    created_at         timestamptz   NOT NULL DEFAULT now(),
    updated_at         timestamptz   NOT NULL DEFAULT clock_timestamp(),
    deleted_at         timestamptz,
    CONSTRAINT campaign_summaries_pkey PRIMARY KEY (campaign_id),
    -- Target of campaign_daily_metrics' tenant-consistent FK.
    CONSTRAINT campaign_summaries_campaign_id_organization_id_key UNIQUE (campaign_id, organization_id),
    CONSTRAINT campaign_summaries_organization_id_fkey
        FOREIGN KEY (organization_id) REFERENCES sales.organizations (id),
    CONSTRAINT campaign_summaries_brand_id_organization_id_fkey
        FOREIGN KEY (brand_id, organization_id) REFERENCES sales.brands (id, organization_id),
    CONSTRAINT campaign_summaries_product_id_brand_id_organization_id_fkey
        FOREIGN KEY (product_id, brand_id, organization_id)
        REFERENCES sales.products (id, brand_id, organization_id),
    CONSTRAINT campaign_summaries_name_check   CHECK (char_length(btrim(name)) BETWEEN 1 AND 200),
    CONSTRAINT campaign_summaries_status_check CHECK (status IN ('draft', 'scheduled', 'active', 'paused', 'finished', 'cancelled')),
    CONSTRAINT campaign_summaries_dates_check  CHECK (ends_at > starts_at),
    CONSTRAINT campaign_summaries_budget_check CHECK (budget >= 0),
    CONSTRAINT campaign_summaries_counts_check CHECK (
        reach >= 0 AND customers_reached >= 0 AND views >= 0 AND interactions >= 0
        AND likes >= 0 AND sales_count >= 0
        AND positive_reactions >= 0 AND negative_reactions >= 0),
    -- Same funnel rule as ads.ad_results (sums of rows that satisfy it satisfy it).
    CONSTRAINT campaign_summaries_funnel_check CHECK (views >= interactions AND interactions >= sales_count),
    CONSTRAINT campaign_summaries_money_check  CHECK (revenue >= 0 AND cost >= 0),
    -- roi = (revenue - cost) / cost: undefined without cost, and never below -1 since revenue >= 0.
    CONSTRAINT campaign_summaries_roi_check CHECK (
        roi IS NULL OR (cost > 0 AND roi >= -1)),
    -- success_rate = sales_count / customers_reached (may exceed 1: repeat buyers).
    CONSTRAINT campaign_summaries_success_rate_check CHECK (
        success_rate IS NULL OR (customers_reached > 0 AND success_rate >= 0)),
    CONSTRAINT campaign_summaries_channels_check CHECK (array_position(channels, NULL) IS NULL),
    CONSTRAINT campaign_summaries_markets_check  CHECK (array_position(markets, NULL) IS NULL),
    CONSTRAINT campaign_summaries_deleted_at_check CHECK (deleted_at IS NULL OR deleted_at >= created_at)
);

-- Tenant campaign list, newest first; also covers the organization FK.
CREATE INDEX campaign_summaries_organization_id_starts_at_idx
    ON sales.campaign_summaries (organization_id, starts_at DESC);
-- Lists filtered by status (staff: "all active campaigns"), newest first.
CREATE INDEX campaign_summaries_status_starts_at_idx
    ON sales.campaign_summaries (status, starts_at DESC);
CREATE INDEX campaign_summaries_brand_id_organization_id_idx
    ON sales.campaign_summaries (brand_id, organization_id);
CREATE INDEX campaign_summaries_product_id_brand_id_organization_id_idx
    ON sales.campaign_summaries (product_id, brand_id, organization_id);
CREATE INDEX campaign_summaries_updated_at_campaign_id_idx
    ON sales.campaign_summaries (updated_at, campaign_id);

COMMENT ON TABLE sales.campaign_summaries IS
    'One row per PromptAds campaign: totals over its whole life, loaded by the ETL from the ads and crm subgraphs. '
    'Upserted on campaign_id; the ETL only writes rows whose figures changed, so updated_at means a real change.';
COMMENT ON COLUMN sales.campaign_summaries.campaign_id IS 'PromptAds campaign id (no FK: the campaign lives in the ads store).';
COMMENT ON COLUMN sales.campaign_summaries.product_id IS 'NULL for a brand-level campaign without a single product.';
COMMENT ON COLUMN sales.campaign_summaries.budget IS 'USD.';
COMMENT ON COLUMN sales.campaign_summaries.reach IS 'Unique audience reached (ads).';
COMMENT ON COLUMN sales.campaign_summaries.customers_reached IS 'CRM customers linked to the campaign.';
COMMENT ON COLUMN sales.campaign_summaries.views IS 'Impressions / views (ads).';
COMMENT ON COLUMN sales.campaign_summaries.revenue IS 'USD.';
COMMENT ON COLUMN sales.campaign_summaries.cost IS 'USD spent.';
COMMENT ON COLUMN sales.campaign_summaries.roi IS '(revenue - cost) / cost; NULL while cost = 0.';
COMMENT ON COLUMN sales.campaign_summaries.success_rate IS 'sales_count / customers_reached; NULL while nobody was reached.';
COMMENT ON COLUMN sales.campaign_summaries.channels IS 'Channel codes the campaign runs on (ads.channels.code).';
COMMENT ON COLUMN sales.campaign_summaries.markets IS 'Market codes the campaign runs in (ads.markets.code).';
COMMENT ON COLUMN sales.campaign_summaries.source_updated_at IS
    'Newest source change (max updated_at over the source rows) included in these figures.';
COMMENT ON COLUMN sales.campaign_summaries.refreshed_at IS 'When the ETL run that last wrote this row started.';
COMMENT ON COLUMN sales.campaign_summaries.deleted_at IS 'Copied from the ads campaign tombstone.';


CREATE TABLE sales.campaign_daily_metrics (
    campaign_id     uuid          NOT NULL,
    day             date          NOT NULL,
    organization_id uuid          NOT NULL,
    reach           bigint        NOT NULL DEFAULT 0,
    views           bigint        NOT NULL DEFAULT 0,
    interactions    bigint        NOT NULL DEFAULT 0,
    likes           bigint        NOT NULL DEFAULT 0,
    sales_count     bigint        NOT NULL DEFAULT 0,
    revenue         numeric(14,2) NOT NULL DEFAULT 0,
    cost            numeric(14,2) NOT NULL DEFAULT 0,
    refreshed_at    timestamptz   NOT NULL,
    created_at      timestamptz   NOT NULL DEFAULT now(),
    updated_at      timestamptz   NOT NULL DEFAULT clock_timestamp(),
    -- Per-campaign report by day is a range scan of this key.
    CONSTRAINT campaign_daily_metrics_pkey PRIMARY KEY (campaign_id, day),
    CONSTRAINT campaign_daily_metrics_campaign_id_organization_id_fkey
        FOREIGN KEY (campaign_id, organization_id)
        REFERENCES sales.campaign_summaries (campaign_id, organization_id) ON DELETE CASCADE,
    CONSTRAINT campaign_daily_metrics_counts_check CHECK (
        reach >= 0 AND views >= 0 AND interactions >= 0 AND likes >= 0 AND sales_count >= 0),
    CONSTRAINT campaign_daily_metrics_funnel_check CHECK (views >= interactions AND interactions >= sales_count),
    CONSTRAINT campaign_daily_metrics_money_check  CHECK (revenue >= 0 AND cost >= 0)
);

CREATE INDEX campaign_daily_metrics_campaign_id_organization_id_idx
    ON sales.campaign_daily_metrics (campaign_id, organization_id);
-- Tenant-wide daily charts (all campaigns of an organization over a date range).
CREATE INDEX campaign_daily_metrics_organization_id_day_idx
    ON sales.campaign_daily_metrics (organization_id, day);
CREATE INDEX campaign_daily_metrics_updated_at_campaign_id_day_idx
    ON sales.campaign_daily_metrics (updated_at, campaign_id, day);

COMMENT ON TABLE sales.campaign_daily_metrics IS
    'Per campaign and UTC day totals (all ads, channels and markets), loaded by the ETL.';
COMMENT ON COLUMN sales.campaign_daily_metrics.organization_id IS
    'Denormalised tenant (forced equal to the summary''s by the composite FK) for tenant filters.';
COMMENT ON COLUMN sales.campaign_daily_metrics.revenue IS 'USD.';
COMMENT ON COLUMN sales.campaign_daily_metrics.cost IS 'USD.';


-- =============================================================================
-- ETL bookkeeping
-- =============================================================================

CREATE TABLE sales.etl_watermarks (
    source     text        NOT NULL,
    watermark  timestamptz NOT NULL DEFAULT '1970-01-01 00:00:00+00',
    last_id    uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT etl_watermarks_pkey PRIMARY KEY (source),
    CONSTRAINT etl_watermarks_source_check CHECK (
        source ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$' AND char_length(source) <= 200)
);

COMMENT ON TABLE sales.etl_watermarks IS
    'Resume point per source feed. Moved in the same transaction as the rows it covers, so a rerun '
    'after a crash neither loads twice nor skips anything.';
COMMENT ON COLUMN sales.etl_watermarks.source IS 'Feed name: <store>.<table>, e.g. ads.ad_results.';
COMMENT ON COLUMN sales.etl_watermarks.watermark IS 'updated_at of the last row consumed.';
COMMENT ON COLUMN sales.etl_watermarks.last_id IS
    'id of the last row consumed at that updated_at: the keyset tie-break, next read is (updated_at, id) > (watermark, last_id).';


CREATE TABLE sales.etl_runs (
    id             uuid        NOT NULL,
    pipeline       text        NOT NULL,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    status         text        NOT NULL DEFAULT 'running',
    rows_read      bigint      NOT NULL DEFAULT 0,
    rows_written   bigint      NOT NULL DEFAULT 0,
    watermark_from timestamptz,
    watermark_to   timestamptz,
    error          text,
    host           text,
    CONSTRAINT etl_runs_pkey PRIMARY KEY (id),
    CONSTRAINT etl_runs_pipeline_check CHECK (pipeline ~ '^[a-z][a-z0-9_.-]{0,99}$'),
    CONSTRAINT etl_runs_status_check   CHECK (status IN ('running', 'succeeded', 'failed')),
    CONSTRAINT etl_runs_finished_at_check CHECK (
        (status = 'running') = (finished_at IS NULL)
        AND (finished_at IS NULL OR finished_at >= started_at)),
    CONSTRAINT etl_runs_rows_check      CHECK (rows_read >= 0 AND rows_written >= 0),
    CONSTRAINT etl_runs_watermark_check CHECK (
        watermark_from IS NULL OR watermark_to IS NULL OR watermark_to >= watermark_from),
    CONSTRAINT etl_runs_error_check CHECK (status <> 'failed' OR error IS NOT NULL),
    CONSTRAINT etl_runs_host_check  CHECK (host IS NULL OR char_length(host) <= 255)
);

-- "Last runs of this pipeline" (monitoring, the n8n workflow's own status page).
CREATE INDEX etl_runs_pipeline_started_at_idx ON sales.etl_runs (pipeline, started_at DESC);

COMMENT ON TABLE sales.etl_runs IS
    'One row per ETL run: inserted as running when the lock is taken, closed as succeeded/failed. '
    'A row left running past the lock TTL means the run crashed.';


-- =============================================================================
-- Audit log: append-only, partitioned by month on occurred_at
-- =============================================================================

CREATE TABLE sales.audit_log (
    id                    uuid        NOT NULL,
    occurred_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_subject         text        NOT NULL,
    actor_organization_id uuid,
    client_id             text,
    scopes                text[]      NOT NULL DEFAULT '{}',
    action                text        NOT NULL,
    operation_name        text,
    target_type           text,
    target_id             text,
    source_ip             inet,
    user_agent            text,
    request_id            text,
    outcome               text        NOT NULL,
    details               jsonb       NOT NULL DEFAULT '{}'::jsonb,
    -- The partition key has to be part of the primary key.
    CONSTRAINT audit_log_pkey PRIMARY KEY (occurred_at, id),
    CONSTRAINT audit_log_actor_subject_check  CHECK (char_length(actor_subject) BETWEEN 1 AND 255),
    CONSTRAINT audit_log_action_check         CHECK (action ~ '^[a-z][a-z0-9_]{0,63}$'),
    CONSTRAINT audit_log_operation_name_check CHECK (operation_name IS NULL OR char_length(operation_name) <= 200),
    CONSTRAINT audit_log_target_check         CHECK (
        (target_type IS NULL OR char_length(target_type) BETWEEN 1 AND 100)
        AND (target_id IS NULL OR char_length(target_id) BETWEEN 1 AND 200)
        AND (target_id IS NULL OR target_type IS NOT NULL)),
    CONSTRAINT audit_log_user_agent_check     CHECK (user_agent IS NULL OR char_length(user_agent) <= 1000),
    CONSTRAINT audit_log_outcome_check        CHECK (outcome IN ('success', 'denied', 'error')),
    CONSTRAINT audit_log_details_check        CHECK (jsonb_typeof(details) = 'object')
) PARTITION BY RANGE (occurred_at);

-- "What did this subject do" (security review), time-ordered.
CREATE INDEX audit_log_actor_subject_occurred_at_idx ON sales.audit_log (actor_subject, occurred_at);
-- "Who touched this record" (e.g. who read a customer's PII).
CREATE INDEX audit_log_target_type_target_id_idx ON sales.audit_log (target_type, target_id, occurred_at);
-- A tenant's own audit trail in the portal.
CREATE INDEX audit_log_actor_organization_id_occurred_at_idx
    ON sales.audit_log (actor_organization_id, occurred_at) WHERE actor_organization_id IS NOT NULL;

-- Row-level BEFORE UPDATE/DELETE triggers on a partitioned table are allowed
-- (PostgreSQL 13+) and are cloned onto every partition, including ones created
-- or attached later. Statement-level TRUNCATE triggers are NOT cloned, so the
-- parent gets one here and ensure_audit_partitions() adds one per partition.
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON sales.audit_log
    FOR EACH ROW EXECUTE FUNCTION sales.reject_append_only_change();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON sales.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION sales.reject_append_only_change();

-- DEFAULT partition: a safety net so an INSERT never fails (an audit write that
-- fails would fail the audited request) when the monthly partition is missing:
-- the maintenance job did not run for months, or a row carries a skewed or
-- back-filled occurred_at. Nothing is routed into it on purpose and it should
-- stay empty; a non-empty default partition is an alert. The functions below
-- keep it harmless: ensure_audit_partitions() moves its rows into a month when
-- it creates that month (otherwise the CREATE would fail), and
-- drop_audit_partitions_before() purges its rows older than the cutoff, so
-- retention holds for stray rows too.
CREATE TABLE sales.audit_log_default PARTITION OF sales.audit_log DEFAULT;
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON sales.audit_log_default
    FOR EACH STATEMENT EXECUTE FUNCTION sales.reject_append_only_change();

COMMENT ON TABLE sales.audit_log IS
    'Security audit trail (mutations, PII reads, logins, erasures, denials). Append-only; partitioned by UTC month '
    '(audit_log_yYYYYmMM); retention drops whole partitions (90 days, scheduled job).';
COMMENT ON TABLE sales.audit_log_default IS
    'Safety-net partition for rows outside every monthly partition; expected empty (alert when not).';
COMMENT ON COLUMN sales.audit_log.actor_subject IS 'JWT subject of the caller (or the service name for jobs).';
COMMENT ON COLUMN sales.audit_log.actor_organization_id IS
    'Organization claim of the token; no FK (the log must accept any claim, including for denied requests).';
COMMENT ON COLUMN sales.audit_log.action IS
    'What happened: mutation, pii_read, login, logout, erase, export, ... (lowercase code).';
COMMENT ON COLUMN sales.audit_log.details IS
    'Extra context (variables names, counts). Never plaintext PII or secrets.';


-- Creates the missing monthly partitions for p_months months starting at the
-- month containing p_from. Idempotent and safe to run concurrently (advisory
-- lock). Month boundaries are midnight UTC. Returns the number created.
CREATE FUNCTION sales.ensure_audit_partitions(p_from date, p_months integer)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $$
DECLARE
    v_first   date;
    v_lo      timestamptz;
    v_hi      timestamptz;
    v_name    text;
    v_rel     regclass;
    v_moved   bigint;
    v_prev    text;
    v_created integer := 0;
BEGIN
    IF p_from IS NULL OR p_months IS NULL OR p_months < 1 OR p_months > 240 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('ensure_audit_partitions(%s, %s): p_from is required and p_months must be 1..240',
                             p_from, p_months);
    END IF;

    -- Serialise with other maintenance calls (the scheduled job, a migration).
    PERFORM pg_advisory_xact_lock(hashtext('sales.audit_log partition maintenance'));

    v_first := date_trunc('month', p_from)::date;
    FOR i IN 0 .. p_months - 1 LOOP
        v_lo   := (v_first + make_interval(months => i))::timestamptz;   -- midnight UTC (function timezone)
        v_hi   := (v_first + make_interval(months => i + 1))::timestamptz;
        v_name := 'audit_log_y' || to_char(v_lo, 'YYYY') || 'm' || to_char(v_lo, 'MM');
        v_rel  := to_regclass(format('sales.%I', v_name));

        IF v_rel IS NOT NULL THEN
            IF NOT EXISTS (SELECT 1 FROM pg_inherits
                           WHERE inhrelid = v_rel AND inhparent = 'sales.audit_log'::regclass) THEN
                RAISE EXCEPTION 'sales.% exists but is not a partition of sales.audit_log', v_name;
            END IF;
            CONTINUE;
        END IF;

        IF to_regclass('sales.audit_log_default') IS NOT NULL
           AND EXISTS (SELECT 1 FROM sales.audit_log_default
                       WHERE occurred_at >= v_lo AND occurred_at < v_hi) THEN
            -- Stray rows for this month sit in the default partition; creating
            -- the partition directly would fail. Build it aside, move the rows,
            -- then attach it.
            EXECUTE format('CREATE TABLE sales.%I (LIKE sales.audit_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                           v_name);
            v_prev := current_setting('sales.maintenance', true);
            PERFORM set_config('sales.maintenance', 'on', true);
            EXECUTE format(
                'WITH moved AS (DELETE FROM sales.audit_log_default
                                 WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *)
                 INSERT INTO sales.%I SELECT * FROM moved', v_name)
                USING v_lo, v_hi;
            GET DIAGNOSTICS v_moved = ROW_COUNT;
            PERFORM set_config('sales.maintenance', coalesce(v_prev, ''), true);
            EXECUTE format('ALTER TABLE sales.audit_log ATTACH PARTITION sales.%I FOR VALUES FROM (%L) TO (%L)',
                           v_name, v_lo, v_hi);
            RAISE NOTICE 'sales.%: moved % row(s) out of sales.audit_log_default', v_name, v_moved;
        ELSE
            EXECUTE format('CREATE TABLE sales.%I PARTITION OF sales.audit_log FOR VALUES FROM (%L) TO (%L)',
                           v_name, v_lo, v_hi);
        END IF;

        -- TRUNCATE triggers are not inherited from the parent.
        EXECUTE format('CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON sales.%I
                        FOR EACH STATEMENT EXECUTE FUNCTION sales.reject_append_only_change()', v_name);
        EXECUTE format('COMMENT ON TABLE sales.%I IS %L', v_name,
                       format('Audit log rows with occurred_at in [%s, %s).', v_lo, v_hi));
        v_created := v_created + 1;
    END LOOP;

    RETURN v_created;
END
$$;

COMMENT ON FUNCTION sales.ensure_audit_partitions(date, integer) IS
    'Creates missing monthly audit_log partitions (audit_log_yYYYYmMM, UTC months) for p_months months from the month '
    'of p_from; moves matching stray rows out of the default partition. Idempotent. Returns the number created.';


-- Drops every monthly partition whose upper bound is <= p_cutoff (so a row is
-- kept until its whole month has aged past the cutoff: a 90-day policy keeps
-- rows 90 to ~121 days), then purges default-partition rows older than the
-- cutoff. Returns the number of partitions dropped.
CREATE FUNCTION sales.drop_audit_partitions_before(p_cutoff timestamptz)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $$
DECLARE
    r         record;
    v_dropped integer := 0;
    v_purged  bigint;
    v_prev    text;
BEGIN
    -- A cutoff in the future would drop the partition being written to.
    IF p_cutoff IS NULL OR p_cutoff > clock_timestamp() THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('drop_audit_partitions_before(%s): cutoff must be given and not in the future', p_cutoff);
    END IF;

    PERFORM pg_advisory_xact_lock(hashtext('sales.audit_log partition maintenance'));

    FOR r IN
        SELECT n.nspname, c.relname, b.upper_bound
        FROM pg_inherits i
        JOIN pg_class c     ON c.oid = i.inhrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        -- The bound expression reads FOR VALUES FROM ('...') TO ('...'), rendered
        -- in this function's timezone and datestyle, so the cast round-trips.
        CROSS JOIN LATERAL (
            SELECT (regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                 $re$TO \('([^']+)'\)$re$))[1]::timestamptz AS upper_bound
        ) b
        WHERE i.inhparent = 'sales.audit_log'::regclass
          AND b.upper_bound IS NOT NULL          -- skips the DEFAULT partition
          AND b.upper_bound <= p_cutoff
        ORDER BY b.upper_bound
    LOOP
        EXECUTE format('DROP TABLE %I.%I', r.nspname, r.relname);
        v_dropped := v_dropped + 1;
    END LOOP;

    IF to_regclass('sales.audit_log_default') IS NOT NULL THEN
        v_prev := current_setting('sales.maintenance', true);
        PERFORM set_config('sales.maintenance', 'on', true);
        DELETE FROM sales.audit_log_default WHERE occurred_at < p_cutoff;
        GET DIAGNOSTICS v_purged = ROW_COUNT;
        PERFORM set_config('sales.maintenance', coalesce(v_prev, ''), true);
        IF v_purged > 0 THEN
            RAISE NOTICE 'purged % stray row(s) older than % from sales.audit_log_default', v_purged, p_cutoff;
        END IF;
    END IF;

    RETURN v_dropped;
END
$$;

COMMENT ON FUNCTION sales.drop_audit_partitions_before(timestamptz) IS
    'Retention: drops audit_log partitions whose upper bound <= p_cutoff (not in the future) and purges older stray '
    'rows from the default partition. Returns the number of partitions dropped.';

-- Partitions for last month through 12 months ahead (14 in all); the scheduled
-- job calls the same function to stay ahead.
DO $$
BEGIN
    PERFORM sales.ensure_audit_partitions(
        ((date_trunc('month', now() AT TIME ZONE 'UTC') - interval '1 month'))::date, 14);
END
$$;


-- =============================================================================
-- AI usage: append-only record of every AI/MCP call
-- =============================================================================

CREATE TABLE sales.ai_usage (
    id                uuid          NOT NULL,
    occurred_at       timestamptz   NOT NULL DEFAULT clock_timestamp(),
    actor_subject     text          NOT NULL,
    organization_id   uuid,
    tool              text          NOT NULL,
    model             text          NOT NULL,
    prompt            text,
    result            text,
    validation_method text          NOT NULL DEFAULT 'none',
    validated         boolean,
    tokens_in         integer       NOT NULL DEFAULT 0,
    tokens_out        integer       NOT NULL DEFAULT 0,
    cache_hit         boolean       NOT NULL DEFAULT false,
    latency_ms        integer       NOT NULL DEFAULT 0,
    cost_usd          numeric(12,6) NOT NULL DEFAULT 0,
    request_id        text,
    CONSTRAINT ai_usage_pkey PRIMARY KEY (id),
    CONSTRAINT ai_usage_organization_id_fkey
        FOREIGN KEY (organization_id) REFERENCES sales.organizations (id),
    CONSTRAINT ai_usage_actor_subject_check CHECK (char_length(actor_subject) BETWEEN 1 AND 255),
    CONSTRAINT ai_usage_tool_check  CHECK (char_length(btrim(tool)) BETWEEN 1 AND 200),
    CONSTRAINT ai_usage_model_check CHECK (char_length(btrim(model)) BETWEEN 1 AND 200),
    CONSTRAINT ai_usage_validation_method_check CHECK (validation_method IN ('none', 'schema', 'human', 'rule', 'llm_judge')),
    -- No validation, no verdict.
    CONSTRAINT ai_usage_validated_check CHECK (validation_method <> 'none' OR validated IS NULL),
    CONSTRAINT ai_usage_tokens_check    CHECK (tokens_in >= 0 AND tokens_out >= 0),
    CONSTRAINT ai_usage_latency_check   CHECK (latency_ms >= 0),
    CONSTRAINT ai_usage_cost_check      CHECK (cost_usd >= 0)
);

-- Usage over time (staff cost reports) and per tenant (also covers the organization FK).
CREATE INDEX ai_usage_occurred_at_idx ON sales.ai_usage (occurred_at);
CREATE INDEX ai_usage_organization_id_occurred_at_idx ON sales.ai_usage (organization_id, occurred_at);

CREATE TRIGGER ai_usage_append_only
    BEFORE UPDATE OR DELETE ON sales.ai_usage
    FOR EACH ROW EXECUTE FUNCTION sales.reject_append_only_change();
CREATE TRIGGER ai_usage_no_truncate
    BEFORE TRUNCATE ON sales.ai_usage
    FOR EACH STATEMENT EXECUTE FUNCTION sales.reject_append_only_change();

COMMENT ON TABLE sales.ai_usage IS
    'One row per AI call (MCP tool or portal feature): what was asked, what came back, how it was validated, tokens and cost. '
    'Append-only; retention/erasure deletes run in a transaction with SET LOCAL sales.maintenance = ''on''.';
COMMENT ON COLUMN sales.ai_usage.tool IS 'MCP tool name or product feature that made the call.';
COMMENT ON COLUMN sales.ai_usage.prompt IS 'Prompt as sent, after PII redaction by the caller.';
COMMENT ON COLUMN sales.ai_usage.validated IS 'Verdict of validation_method; NULL when not validated (yet).';
COMMENT ON COLUMN sales.ai_usage.cache_hit IS 'Served from the Redis LLM cache (ps:llm:v1:*): no tokens billed.';
COMMENT ON COLUMN sales.ai_usage.cost_usd IS 'Provider cost in USD (6 decimals: per-token prices are fractions of a cent).';


-- =============================================================================
-- updated_at triggers (every table with updated_at)
-- =============================================================================

CREATE TRIGGER organizations_touch_updated_at
    BEFORE INSERT OR UPDATE ON sales.organizations
    FOR EACH ROW EXECUTE FUNCTION sales.touch_updated_at();
CREATE TRIGGER brands_touch_updated_at
    BEFORE INSERT OR UPDATE ON sales.brands
    FOR EACH ROW EXECUTE FUNCTION sales.touch_updated_at();
CREATE TRIGGER products_touch_updated_at
    BEFORE INSERT OR UPDATE ON sales.products
    FOR EACH ROW EXECUTE FUNCTION sales.touch_updated_at();
CREATE TRIGGER contacts_touch_updated_at
    BEFORE INSERT OR UPDATE ON sales.contacts
    FOR EACH ROW EXECUTE FUNCTION sales.touch_updated_at();
CREATE TRIGGER subscription_plans_touch_updated_at
    BEFORE INSERT OR UPDATE ON sales.subscription_plans
    FOR EACH ROW EXECUTE FUNCTION sales.touch_updated_at();
CREATE TRIGGER subscriptions_touch_updated_at
    BEFORE INSERT OR UPDATE ON sales.subscriptions
    FOR EACH ROW EXECUTE FUNCTION sales.touch_updated_at();
CREATE TRIGGER portal_users_touch_updated_at
    BEFORE INSERT OR UPDATE ON sales.portal_users
    FOR EACH ROW EXECUTE FUNCTION sales.touch_updated_at();
CREATE TRIGGER campaign_plans_touch_updated_at
    BEFORE INSERT OR UPDATE ON sales.campaign_plans
    FOR EACH ROW EXECUTE FUNCTION sales.touch_updated_at();
CREATE TRIGGER approvals_touch_updated_at
    BEFORE INSERT OR UPDATE ON sales.approvals
    FOR EACH ROW EXECUTE FUNCTION sales.touch_updated_at();
CREATE TRIGGER scheduled_tasks_touch_updated_at
    BEFORE INSERT OR UPDATE ON sales.scheduled_tasks
    FOR EACH ROW EXECUTE FUNCTION sales.touch_updated_at();
CREATE TRIGGER task_reminders_touch_updated_at
    BEFORE INSERT OR UPDATE ON sales.task_reminders
    FOR EACH ROW EXECUTE FUNCTION sales.touch_updated_at();
CREATE TRIGGER campaign_summaries_touch_updated_at
    BEFORE INSERT OR UPDATE ON sales.campaign_summaries
    FOR EACH ROW EXECUTE FUNCTION sales.touch_updated_at();
CREATE TRIGGER campaign_daily_metrics_touch_updated_at
    BEFORE INSERT OR UPDATE ON sales.campaign_daily_metrics
    FOR EACH ROW EXECUTE FUNCTION sales.touch_updated_at();
CREATE TRIGGER etl_watermarks_touch_updated_at
    BEFORE INSERT OR UPDATE ON sales.etl_watermarks
    FOR EACH ROW EXECUTE FUNCTION sales.touch_updated_at();
