//! The content store on its PostgreSQL jsonb twin (sqlx). A row reads as its canonical document,
//! `to_jsonb(row) - 'doc' || doc` (promoted columns plus `doc`), straight into the model; writes
//! validate the whole MongoDB document first, then split it into columns and `doc`. Every query
//! binds its parameters; tenant filtering is `($1::uuid IS NULL OR organization_id = $1)` so one
//! statement serves staff and tenants (images add `OR organization_id IS NULL`: the stock library).
//! Text is ordered `COLLATE "C"` (by bytes), as MongoDB's default collation orders it, so both
//! adapters page in the same order.

use std::{collections::HashMap, str::FromStr, time::Duration};

use bson::Document;
use chrono::{DateTime, Utc};
use promptsales_platform::StoreUrl;
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
    types::Json,
};
use uuid::Uuid;

use super::{
    After, CampaignLog, ContentRequest, ContentStore, Hashtag, Image, ImageBlob, Integration, LogReview,
    NewCampaignLog, NewContentRequest, Page, RequestFilter, Result, Reviewed,
    document::{self, Collection},
    group,
};

pub struct PgStore {
    pool: PgPool,
}

const IMAGE: &str = "(to_jsonb(i) - 'doc') || i.doc";
const HASHTAG: &str = "(to_jsonb(h) - 'doc') || h.doc";
const REQUEST: &str = "(to_jsonb(r) - 'doc') || r.doc";
const LOG: &str = "(to_jsonb(l) - 'doc') || l.doc";
/// Named column by column so that the ciphertext is never even read.
const INTEGRATION: &str = "jsonb_build_object('id', n.id, 'organization_id', n.organization_id, 'name', n.name,
     'kind', n.kind, 'auth_method', n.auth_method, 'credentials_key_id', n.credentials_key_id,
     'has_credentials', n.credentials_enc IS NOT NULL, 'enabled', n.enabled, 'created_at', n.created_at,
     'updated_at', n.updated_at, 'deleted_at', n.deleted_at) || n.doc";
/// The image a generation log produced: `output_ref` of the form `images/<uuid>`, else NULL.
const GENERATED_IMAGE: &str = "CASE WHEN g.doc ->> 'output_ref' ~* \
     '^images/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' \
     THEN substr(g.doc ->> 'output_ref', 8)::uuid END";

fn time_after(after: Option<After<DateTime<Utc>>>) -> (Option<DateTime<Utc>>, Option<Uuid>) {
    after.map(|a| (Some(a.key), Some(a.id))).unwrap_or_default()
}

fn limit(first: usize) -> i64 {
    first as i64 + 1
}

impl PgStore {
    /// A pool on the store `url` names (connections opened lazily, so the process starts even while
    /// the database is still coming up; `/readyz` tells when it answers).
    pub async fn connect(url: &StoreUrl) -> Result<PgStore> {
        let options = PgConnectOptions::from_str(url.expose().as_str())?.application_name("promptsales-content");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with(options);
        Ok(PgStore { pool })
    }

    /// A store over an existing pool (tests).
    pub fn from_pool(pool: PgPool) -> PgStore {
        PgStore { pool }
    }

    /// Loads whole MongoDB documents as they are (ids and times included; the trigger still sets
    /// `updated_at`), each validated like any write, in one statement per call: fixtures and data
    /// copied from a MongoDB store.
    pub async fn import(&self, collection: Collection, documents: &[Document]) -> Result<()> {
        let mut rows = Vec::with_capacity(documents.len());
        for d in documents {
            document::validate(collection, d)?;
            rows.push(document::twin_row(collection, d));
        }
        // The table name comes from the closed Collection enum, never from input.
        let table = collection.name();
        let sql = format!(
            "INSERT INTO content.{table} SELECT * FROM jsonb_populate_recordset(NULL::content.{table}, $1::jsonb)"
        );
        sqlx::query(&sql)
            .bind(Json(serde_json::Value::Array(rows)))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn images_via_generations(
        &self,
        owner: &str,
        tenant: Option<Uuid>,
        owners: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<Image>>> {
        // `owner` is one of two constants below: the request or the campaign the image was made for.
        let sql = format!(
            "WITH made AS (
                 SELECT DISTINCT {owner} AS owner, {GENERATED_IMAGE} AS image_id
                 FROM content.generation_logs g
                 JOIN content.content_requests r ON r.id = g.request_id
                 WHERE {owner} = ANY($1) AND r.deleted_at IS NULL AND ($2::uuid IS NULL OR r.organization_id = $2)
             )
             SELECT made.owner, {IMAGE} FROM made JOIN content.images i ON i.id = made.image_id
             WHERE i.deleted_at IS NULL AND ($2::uuid IS NULL OR i.organization_id = $2 OR i.organization_id IS NULL)
             ORDER BY i.created_at DESC, i.id DESC"
        );
        let rows: Vec<(Uuid, Json<Image>)> = sqlx::query_as(&sql)
            .bind(owners)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(group(rows.into_iter().map(|(owner, image)| (owner, image.0))))
    }
}

#[async_trait::async_trait]
impl ContentStore for PgStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn images(
        &self,
        tenant: Option<Uuid>,
        hashtag: Option<&str>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<Image>> {
        const WHERE: &str = "i.deleted_at IS NULL
             AND ($1::uuid IS NULL OR i.organization_id = $1 OR i.organization_id IS NULL)
             AND ($2::text IS NULL OR i.hashtags @> ARRAY[$2::text])";
        let (at, id) = time_after(after);
        let sql = format!(
            "SELECT {IMAGE} FROM content.images i
             WHERE {WHERE} AND ($3::timestamptz IS NULL OR (i.created_at, i.id) < ($3, $4::uuid))
             ORDER BY i.created_at DESC, i.id DESC LIMIT $5"
        );
        let items: Vec<Json<Image>> = sqlx::query_scalar(&sql)
            .bind(tenant)
            .bind(hashtag)
            .bind(at)
            .bind(id)
            .bind(limit(first))
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM content.images i WHERE {WHERE}"))
            .bind(tenant)
            .bind(hashtag)
            .fetch_one(&self.pool)
            .await?;
        Ok(Page::from_overfetch(
            items.into_iter().map(|j| j.0).collect(),
            first,
            total,
        ))
    }

    async fn images_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Image>> {
        let sql = format!(
            "SELECT {IMAGE} FROM content.images i
             WHERE i.id = ANY($1) AND i.deleted_at IS NULL
               AND ($2::uuid IS NULL OR i.organization_id = $2 OR i.organization_id IS NULL)"
        );
        let rows: Vec<Json<Image>> = sqlx::query_scalar(&sql)
            .bind(ids)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|j| (j.0.id, j.0)).collect())
    }

    async fn images_by_request(&self, tenant: Option<Uuid>, requests: &[Uuid]) -> Result<HashMap<Uuid, Vec<Image>>> {
        self.images_via_generations("g.request_id", tenant, requests).await
    }

    async fn images_by_campaign(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> Result<HashMap<Uuid, Vec<Image>>> {
        self.images_via_generations("r.campaign_id", tenant, campaigns).await
    }

    async fn image_blob(&self, tenant: Option<Uuid>, id: Uuid) -> Result<Option<ImageBlob>> {
        let row: Option<(String, String, Vec<u8>)> = sqlx::query_as(
            "SELECT i.doc #>> '{file,content_type}', b.sha256, b.data
             FROM content.images i JOIN content.image_blobs b ON b.image_id = i.id
             WHERE i.id = $1 AND i.deleted_at IS NULL
               AND ($2::uuid IS NULL OR i.organization_id = $2 OR i.organization_id IS NULL)",
        )
        .bind(id)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(content_type, sha256, data)| ImageBlob {
            content_type,
            sha256,
            data,
        }))
    }

    async fn hashtags(&self, category: Option<&str>, after: Option<After<i64>>, first: usize) -> Result<Page<Hashtag>> {
        const WHERE: &str = "h.deleted_at IS NULL AND ($1::text IS NULL OR h.category = $1)";
        let (count, id) = after.map(|a| (Some(a.key), Some(a.id))).unwrap_or_default();
        let sql = format!(
            "SELECT {HASHTAG} FROM content.hashtags h
             WHERE {WHERE} AND ($2::bigint IS NULL OR h.usage_count < $2 OR (h.usage_count = $2 AND h.id > $3::uuid))
             ORDER BY h.usage_count DESC, h.id LIMIT $4"
        );
        let items: Vec<Json<Hashtag>> = sqlx::query_scalar(&sql)
            .bind(category)
            .bind(count)
            .bind(id)
            .bind(limit(first))
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM content.hashtags h WHERE {WHERE}"))
            .bind(category)
            .fetch_one(&self.pool)
            .await?;
        Ok(Page::from_overfetch(
            items.into_iter().map(|j| j.0).collect(),
            first,
            total,
        ))
    }

    async fn hashtags_by_id(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Hashtag>> {
        let sql = format!("SELECT {HASHTAG} FROM content.hashtags h WHERE h.id = ANY($1) AND h.deleted_at IS NULL");
        let rows: Vec<Json<Hashtag>> = sqlx::query_scalar(&sql).bind(ids).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|j| (j.0.id, j.0)).collect())
    }

    async fn hashtags_by_tag(&self, tags: &[String]) -> Result<HashMap<String, Hashtag>> {
        let sql = format!("SELECT {HASHTAG} FROM content.hashtags h WHERE h.tag = ANY($1) AND h.deleted_at IS NULL");
        let rows: Vec<Json<Hashtag>> = sqlx::query_scalar(&sql).bind(tags).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|j| (j.0.tag.clone(), j.0)).collect())
    }

    async fn content_requests(
        &self,
        tenant: Option<Uuid>,
        filter: &RequestFilter,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<ContentRequest>> {
        const WHERE: &str = "r.deleted_at IS NULL AND ($1::uuid IS NULL OR r.organization_id = $1)
             AND ($2::uuid IS NULL OR r.campaign_id = $2) AND ($3::text IS NULL OR r.status = $3)";
        let (at, id) = time_after(after);
        let sql = format!(
            "SELECT {REQUEST} FROM content.content_requests r
             WHERE {WHERE} AND ($4::timestamptz IS NULL OR (r.created_at, r.id) < ($4, $5::uuid))
             ORDER BY r.created_at DESC, r.id DESC LIMIT $6"
        );
        let items: Vec<Json<ContentRequest>> = sqlx::query_scalar(&sql)
            .bind(tenant)
            .bind(filter.campaign_id)
            .bind(filter.status.as_deref())
            .bind(at)
            .bind(id)
            .bind(limit(first))
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM content.content_requests r WHERE {WHERE}"
        ))
        .bind(tenant)
        .bind(filter.campaign_id)
        .bind(filter.status.as_deref())
        .fetch_one(&self.pool)
        .await?;
        Ok(Page::from_overfetch(
            items.into_iter().map(|j| j.0).collect(),
            first,
            total,
        ))
    }

    async fn content_requests_by_id(
        &self,
        tenant: Option<Uuid>,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, ContentRequest>> {
        let sql = format!(
            "SELECT {REQUEST} FROM content.content_requests r
             WHERE r.id = ANY($1) AND r.deleted_at IS NULL AND ($2::uuid IS NULL OR r.organization_id = $2)"
        );
        let rows: Vec<Json<ContentRequest>> = sqlx::query_scalar(&sql)
            .bind(ids)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|j| (j.0.id, j.0)).collect())
    }

    async fn content_requests_by_campaign(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<ContentRequest>>> {
        let sql = format!(
            "SELECT {REQUEST} FROM content.content_requests r
             WHERE r.campaign_id = ANY($1) AND r.deleted_at IS NULL AND ($2::uuid IS NULL OR r.organization_id = $2)
             ORDER BY r.created_at DESC, r.id DESC"
        );
        let rows: Vec<Json<ContentRequest>> = sqlx::query_scalar(&sql)
            .bind(campaigns)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(group(rows.into_iter().map(|j| (j.0.campaign_id, j.0))))
    }

    async fn create_content_request(&self, request: &NewContentRequest) -> Result<ContentRequest> {
        let document = request.document(Utc::now());
        document::validate(Collection::ContentRequests, &document)?;
        // Columns from the request, `doc` from the validated document; the store sets the times.
        let row = document::twin_row(Collection::ContentRequests, &document);
        let sql = format!(
            "INSERT INTO content.content_requests AS r (id, organization_id, campaign_id, status, requested_by, doc)
             VALUES ($1, $2, $3, 'open', $4, $5) RETURNING {REQUEST}"
        );
        let created: Json<ContentRequest> = sqlx::query_scalar(&sql)
            .bind(request.id)
            .bind(request.organization_id)
            .bind(request.campaign_id)
            .bind(request.requested_by)
            .bind(Json(&row["doc"]))
            .fetch_one(&self.pool)
            .await?;
        Ok(created.0)
    }

    async fn create_campaign_log(&self, log: &NewCampaignLog) -> Result<CampaignLog> {
        let document = log.document(Utc::now());
        document::validate(Collection::CampaignLogs, &document)?;
        let row = document::twin_row(Collection::CampaignLogs, &document);
        let sql = format!(
            "INSERT INTO content.campaign_logs AS l
                 (id, organization_id, campaign_id, population, channel_code, status, content_request_id, doc)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {LOG}"
        );
        let created: Json<CampaignLog> = sqlx::query_scalar(&sql)
            .bind(log.id)
            .bind(log.organization_id)
            .bind(log.campaign_id)
            .bind(&log.population)
            .bind(&log.channel_code)
            .bind(&log.status)
            .bind(log.content_request_id)
            .bind(Json(&row["doc"]))
            .fetch_one(&self.pool)
            .await?;
        Ok(created.0)
    }

    async fn review_campaign_log(&self, tenant: Option<Uuid>, review: &LogReview) -> Result<Reviewed> {
        let sql = format!(
            "UPDATE content.campaign_logs AS l
                SET status = $3, reviewed_by = $4, review_note = $5, reviewed_at = now()
              WHERE l.id = $1 AND ($2::uuid IS NULL OR l.organization_id = $2)
                AND l.deleted_at IS NULL AND l.status = 'pending_approval'
          RETURNING {LOG}"
        );
        let reviewed: Option<Json<CampaignLog>> = sqlx::query_scalar(&sql)
            .bind(review.id)
            .bind(tenant)
            .bind(review.status)
            .bind(&review.reviewer)
            .bind(&review.note)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(log) = reviewed {
            return Ok(Reviewed::Done(Box::new(log.0)));
        }
        let status: Option<String> = sqlx::query_scalar(
            "SELECT status FROM content.campaign_logs
              WHERE id = $1 AND ($2::uuid IS NULL OR organization_id = $2) AND deleted_at IS NULL",
        )
        .bind(review.id)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        Ok(status.map_or(Reviewed::NotFound, Reviewed::NotPending))
    }

    async fn campaign_logs(
        &self,
        tenant: Option<Uuid>,
        campaign_id: Option<Uuid>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<CampaignLog>> {
        const WHERE: &str = "l.deleted_at IS NULL AND ($1::uuid IS NULL OR l.organization_id = $1)
             AND ($2::uuid IS NULL OR l.campaign_id = $2)";
        let (at, id) = time_after(after);
        let sql = format!(
            "SELECT {LOG} FROM content.campaign_logs l
             WHERE {WHERE} AND ($3::timestamptz IS NULL OR (l.created_at, l.id) < ($3, $4::uuid))
             ORDER BY l.created_at DESC, l.id DESC LIMIT $5"
        );
        let items: Vec<Json<CampaignLog>> = sqlx::query_scalar(&sql)
            .bind(tenant)
            .bind(campaign_id)
            .bind(at)
            .bind(id)
            .bind(limit(first))
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM content.campaign_logs l WHERE {WHERE}"))
            .bind(tenant)
            .bind(campaign_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(Page::from_overfetch(
            items.into_iter().map(|j| j.0).collect(),
            first,
            total,
        ))
    }

    async fn campaign_logs_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, CampaignLog>> {
        let sql = format!(
            "SELECT {LOG} FROM content.campaign_logs l
             WHERE l.id = ANY($1) AND l.deleted_at IS NULL AND ($2::uuid IS NULL OR l.organization_id = $2)"
        );
        let rows: Vec<Json<CampaignLog>> = sqlx::query_scalar(&sql)
            .bind(ids)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|j| (j.0.id, j.0)).collect())
    }

    async fn campaign_logs_by_campaign(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<CampaignLog>>> {
        let sql = format!(
            "SELECT {LOG} FROM content.campaign_logs l
             WHERE l.campaign_id = ANY($1) AND l.deleted_at IS NULL AND ($2::uuid IS NULL OR l.organization_id = $2)
             ORDER BY l.population COLLATE \"C\", l.channel_code COLLATE \"C\", l.created_at, l.id"
        );
        let rows: Vec<Json<CampaignLog>> = sqlx::query_scalar(&sql)
            .bind(campaigns)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(group(rows.into_iter().map(|j| (j.0.campaign_id, j.0))))
    }

    async fn integrations(
        &self,
        tenant: Option<Uuid>,
        after: Option<After<String>>,
        first: usize,
    ) -> Result<Page<Integration>> {
        const WHERE: &str = "n.deleted_at IS NULL AND ($1::uuid IS NULL OR n.organization_id = $1)";
        let (name, id) = after.map(|a| (Some(a.key), Some(a.id))).unwrap_or_default();
        let sql = format!(
            "SELECT {INTEGRATION} FROM content.integrations n
             WHERE {WHERE} AND ($2::text IS NULL OR (n.name COLLATE \"C\", n.id) > ($2, $3::uuid))
             ORDER BY n.name COLLATE \"C\", n.id LIMIT $4"
        );
        let items: Vec<Json<Integration>> = sqlx::query_scalar(&sql)
            .bind(tenant)
            .bind(name)
            .bind(id)
            .bind(limit(first))
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM content.integrations n WHERE {WHERE}"))
            .bind(tenant)
            .fetch_one(&self.pool)
            .await?;
        Ok(Page::from_overfetch(
            items.into_iter().map(|j| j.0).collect(),
            first,
            total,
        ))
    }

    async fn integrations_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Integration>> {
        let sql = format!(
            "SELECT {INTEGRATION} FROM content.integrations n
             WHERE n.id = ANY($1) AND n.deleted_at IS NULL AND ($2::uuid IS NULL OR n.organization_id = $2)"
        );
        let rows: Vec<Json<Integration>> = sqlx::query_scalar(&sql)
            .bind(ids)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|j| (j.0.id, j.0)).collect())
    }

    async fn images_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<Image>> {
        IMAGE_FEED.read(&self.pool, tenant, since, after, first).await
    }

    async fn content_requests_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<ContentRequest>> {
        REQUEST_FEED.read(&self.pool, tenant, since, after, first).await
    }

    async fn campaign_logs_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<CampaignLog>> {
        LOG_FEED.read(&self.pool, tenant, since, after, first).await
    }
}

/// A twin table as an ETL feed reads it: all constants of this module.
struct Feed {
    /// `content.<table> <alias>`.
    from: &'static str,
    select: &'static str,
    alias: &'static str,
    /// Tenant filter on `$2`.
    tenant: &'static str,
}

const IMAGE_FEED: Feed = Feed {
    from: "content.images i",
    select: IMAGE,
    alias: "i",
    tenant: "($2::uuid IS NULL OR i.organization_id = $2 OR i.organization_id IS NULL)",
};
const REQUEST_FEED: Feed = Feed {
    from: "content.content_requests r",
    select: REQUEST,
    alias: "r",
    tenant: "($2::uuid IS NULL OR r.organization_id = $2)",
};
const LOG_FEED: Feed = Feed {
    from: "content.campaign_logs l",
    select: LOG,
    alias: "l",
    tenant: "($2::uuid IS NULL OR l.organization_id = $2)",
};

impl Feed {
    /// Keyset on `(updated_at, id)`, oldest change first, tombstones included.
    async fn read<T: serde::de::DeserializeOwned + Send + Unpin + 'static>(
        &self,
        pool: &PgPool,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<T>> {
        let Feed {
            from,
            select,
            alias: a,
            tenant: tenant_sql,
        } = self;
        let (at, id) = time_after(after);
        let sql = format!(
            "SELECT {select} FROM {from}
             WHERE {a}.updated_at > $1 AND {tenant_sql}
               AND ($3::timestamptz IS NULL OR ({a}.updated_at, {a}.id) > ($3, $4::uuid))
             ORDER BY {a}.updated_at, {a}.id LIMIT $5"
        );
        let items: Vec<Json<T>> = sqlx::query_scalar(&sql)
            .bind(since)
            .bind(tenant)
            .bind(at)
            .bind(id)
            .bind(limit(first))
            .fetch_all(pool)
            .await?;
        let count_sql = format!("SELECT count(*) FROM {from} WHERE {a}.updated_at > $1 AND {tenant_sql}");
        let total: i64 = sqlx::query_scalar(&count_sql)
            .bind(since)
            .bind(tenant)
            .fetch_one(pool)
            .await?;
        Ok(Page::from_overfetch(
            items.into_iter().map(|j| j.0).collect(),
            first,
            total,
        ))
    }
}
