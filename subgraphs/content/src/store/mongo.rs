//! The content store on MongoDB (the `mongodb` 3 crate), its prescribed engine. UUIDs travel as
//! binData subtype 4, lists use keyset pagination (a sort plus range filters on the sort keys,
//! served by the collections' indexes), live documents are `deleted_at: null` (the form the
//! partial indexes need), and the server stamps `updated_at` (`$$NOW`), never the client clock.
//! Documents are validated before every write as on PostgreSQL, so both adapters refuse the same
//! input with the same violations; the collection validators stay the last line of defence.

use std::collections::{HashMap, HashSet};

use bson::{Bson, Document, doc};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::{Client, Cursor, Database, options::ClientOptions};
use promptsales_platform::StoreUrl;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::{
    After, CampaignLog, ContentRequest, ContentStore, Hashtag, Image, ImageBlob, Integration, LogReview,
    NewCampaignLog, NewContentRequest, Page, RequestFilter, Result, Reviewed, StoreError, Violation,
    document::{self, Collection, date, from_document, read_uuid, uuid},
    group,
};

pub struct MongoStore {
    db: Database,
}

/// `{$and: […]}` of the conditions present (`{}` when none).
fn all_of(conditions: impl IntoIterator<Item = Option<Document>>) -> Document {
    let mut conditions: Vec<Document> = conditions.into_iter().flatten().collect();
    match conditions.len() {
        0 => Document::new(),
        1 => conditions.remove(0),
        _ => doc! { "$and": conditions },
    }
}

fn live() -> Option<Document> {
    Some(doc! { "deleted_at": Bson::Null })
}

fn of_tenant(tenant: Option<Uuid>) -> Option<Document> {
    tenant.map(|t| doc! { "organization_id": uuid(t) })
}

/// A tenant sees its own images and the stock library (no organization).
fn images_visible_to(tenant: Option<Uuid>) -> Option<Document> {
    tenant.map(|t| doc! { "$or": [ { "organization_id": uuid(t) }, { "organization_id": Bson::Null } ] })
}

fn any_of(ids: &[Uuid]) -> Document {
    doc! { "$in": ids.iter().map(|id| uuid(*id)).collect::<Vec<_>>() }
}

/// After the keyset position `(key, _id)` in the direction `op` (`$lt` descending, `$gt` ascending).
fn keyset(field: &str, op: &str, key: Bson, id: Uuid) -> Document {
    doc! { "$or": [ { field: { op: key.clone() } }, { field: key, "_id": { op: uuid(id) } } ] }
}

fn time_keyset(field: &str, op: &str, after: Option<After<DateTime<Utc>>>) -> Option<Document> {
    after.map(|a| keyset(field, op, date(a.key), a.id))
}

fn get_uuid(d: &Document, key: &str) -> Option<Uuid> {
    d.get(key).and_then(read_uuid)
}

async fn collect<T: DeserializeOwned>(cursor: Cursor<Document>) -> Result<Vec<T>> {
    let docs: Vec<Document> = cursor.try_collect().await?;
    docs.into_iter().map(from_document).collect()
}

/// Adds `has_credentials` and drops the ciphertext on the server, so it never leaves MongoDB.
fn without_credentials() -> [Document; 2] {
    [
        doc! { "$addFields": { "has_credentials": { "$eq": [ { "$type": "$credentials_enc" }, "binData" ] } } },
        doc! { "$project": { "credentials_enc": 0 } },
    ]
}

impl MongoStore {
    /// A client for the database `url` names (the driver connects on first use, so the process
    /// starts while the server is still coming up; `/readyz` tells when it answers).
    pub async fn connect(url: &StoreUrl) -> Result<MongoStore> {
        let database = url
            .database()
            .ok_or_else(|| StoreError::Config("the MongoDB URL names no database".into()))?
            .to_owned();
        let mut options = ClientOptions::parse(url.expose().as_str()).await?;
        options.app_name = Some("promptsales-content".into());
        let client = Client::with_options(options)?;
        Ok(MongoStore {
            db: client.database(&database),
        })
    }

    fn collection(&self, c: Collection) -> mongodb::Collection<Document> {
        self.db.collection(c.name())
    }

    /// Loads whole documents as they are (ids and times included), each validated like any write,
    /// with the references a validator cannot check (a blob's image, a log's request) checked
    /// first: fixtures and data copied from another store.
    pub async fn import(&self, collection: Collection, documents: &[Document]) -> Result<()> {
        for d in documents {
            document::validate(collection, d)?;
        }
        let reference = match collection {
            Collection::ImageBlobs => Some(("_id", Collection::Images, "imageExists")),
            Collection::GenerationLogs => Some(("request_id", Collection::ContentRequests, "requestExists")),
            _ => None,
        };
        if let Some((field, target, rule)) = reference {
            let wanted: HashSet<Uuid> = documents.iter().filter_map(|d| get_uuid(d, field)).collect();
            let ids: Vec<Uuid> = wanted.iter().copied().collect();
            let found = self
                .collection(target)
                .count_documents(doc! { "_id": any_of(&ids) })
                .await?;
            if found != wanted.len() as u64 {
                return Err(StoreError::Invalid(vec![Violation {
                    path: field.to_owned(),
                    rule,
                    message: format!("must name an existing document of {}", target.name()),
                }]));
            }
        }
        if !documents.is_empty() {
            self.collection(collection).insert_many(documents).await?;
        }
        Ok(())
    }

    async fn page<T: DeserializeOwned>(
        &self,
        c: Collection,
        filter: Document,
        keyset: Option<Document>,
        sort: Document,
        first: usize,
    ) -> Result<Page<T>> {
        let total = self.collection(c).count_documents(filter.clone()).await? as i64;
        let cursor = self
            .collection(c)
            .find(all_of([Some(filter), keyset]))
            .sort(sort)
            .limit(first as i64 + 1)
            .await?;
        Ok(Page::from_overfetch(collect(cursor).await?, first, total))
    }

    /// Writes a validated new document as a pipeline upsert on `_id` and reads it back: the
    /// server stamps the times (`$$NOW`), a retry of the same id keeps the first `created_at`, and
    /// every caller value is a `$literal` (a string starting with `$` would otherwise be read as
    /// a field path).
    async fn insert_stamped<T: DeserializeOwned>(
        &self,
        c: Collection,
        id: Uuid,
        document: &Document,
        what: &str,
    ) -> Result<T> {
        let mut set = Document::new();
        for (key, value) in document {
            let expression = match key.as_str() {
                "_id" => continue,
                "created_at" => doc! { "$ifNull": ["$created_at", "$$NOW"] }.into(),
                "updated_at" => Bson::String("$$NOW".into()),
                "deleted_at" => doc! { "$ifNull": ["$deleted_at", Bson::Null] }.into(),
                _ => doc! { "$literal": value.clone() }.into(),
            };
            set.insert(key.clone(), expression);
        }
        let collection = self.collection(c);
        collection
            .update_one(doc! { "_id": uuid(id) }, vec![doc! { "$set": set }])
            .upsert(true)
            .await?;
        let written = collection
            .find_one(doc! { "_id": uuid(id) })
            .await?
            .ok_or_else(|| StoreError::Shape(format!("the {what} just written is not there")))?;
        from_document(written)
    }

    async fn list<T: DeserializeOwned>(&self, c: Collection, filter: Document, sort: Document) -> Result<Vec<T>> {
        collect(self.collection(c).find(filter).sort(sort).await?).await
    }

    /// Images made for the requests `requests` selects, grouped by `owner` (the request itself or
    /// its campaign): requests, then their generation logs, then the images, three queries.
    async fn images_via_generations(
        &self,
        tenant: Option<Uuid>,
        requests: Document,
        owner: &str,
    ) -> Result<HashMap<Uuid, Vec<Image>>> {
        let filter = all_of([Some(requests), live(), of_tenant(tenant)]);
        let found: Vec<Document> = self
            .collection(Collection::ContentRequests)
            .find(filter)
            .projection(doc! { "_id": 1, "campaign_id": 1 })
            .await?
            .try_collect()
            .await?;
        let owner_of: HashMap<Uuid, Uuid> = found
            .iter()
            .filter_map(|d| Some((get_uuid(d, "_id")?, get_uuid(d, owner)?)))
            .collect();
        if owner_of.is_empty() {
            return Ok(HashMap::new());
        }
        let request_ids: Vec<Uuid> = owner_of.keys().copied().collect();
        let logs: Vec<Document> = self
            .collection(Collection::GenerationLogs)
            .find(doc! { "request_id": any_of(&request_ids), "output_ref": { "$regex": "^images/" } })
            .projection(doc! { "request_id": 1, "output_ref": 1 })
            .await?
            .try_collect()
            .await?;
        let mut owners_of_image: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for log in &logs {
            let image = log
                .get_str("output_ref")
                .ok()
                .and_then(|r| r.strip_prefix("images/"))
                // Only the hyphenated form, as the twin's pattern; parse_str also takes other forms.
                .filter(|id| id.len() == 36)
                .and_then(|id| Uuid::parse_str(id).ok());
            let owner = get_uuid(log, "request_id").and_then(|r| owner_of.get(&r));
            if let (Some(image), Some(owner)) = (image, owner) {
                let owners = owners_of_image.entry(image).or_default();
                if !owners.contains(owner) {
                    owners.push(*owner);
                }
            }
        }
        if owners_of_image.is_empty() {
            return Ok(HashMap::new());
        }
        let image_ids: Vec<Uuid> = owners_of_image.keys().copied().collect();
        let filter = all_of([
            Some(doc! { "_id": any_of(&image_ids) }),
            live(),
            images_visible_to(tenant),
        ]);
        let images: Vec<Image> = self
            .list(Collection::Images, filter, doc! { "created_at": -1, "_id": -1 })
            .await?;
        Ok(group(images.into_iter().flat_map(|image| {
            let owners = owners_of_image.get(&image.id).cloned().unwrap_or_default();
            owners.into_iter().map(move |o| (o, image.clone()))
        })))
    }

    async fn updated_since<T: DeserializeOwned>(
        &self,
        c: Collection,
        tenant: Option<Document>,
        since: DateTime<Utc>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<T>> {
        let filter = all_of([Some(doc! { "updated_at": { "$gt": date(since) } }), tenant]);
        let keyset = time_keyset("updated_at", "$gt", after);
        self.page(c, filter, keyset, doc! { "updated_at": 1, "_id": 1 }, first)
            .await
    }
}

#[async_trait::async_trait]
impl ContentStore for MongoStore {
    async fn ping(&self) -> Result<()> {
        self.db.run_command(doc! { "ping": 1 }).await?;
        Ok(())
    }

    async fn images(
        &self,
        tenant: Option<Uuid>,
        hashtag: Option<&str>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<Image>> {
        let filter = all_of([
            live(),
            images_visible_to(tenant),
            hashtag.map(|h| doc! { "hashtags": h }),
        ]);
        let keyset = time_keyset("created_at", "$lt", after);
        self.page(
            Collection::Images,
            filter,
            keyset,
            doc! { "created_at": -1, "_id": -1 },
            first,
        )
        .await
    }

    async fn images_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Image>> {
        let filter = all_of([Some(doc! { "_id": any_of(ids) }), live(), images_visible_to(tenant)]);
        let images: Vec<Image> = self.list(Collection::Images, filter, doc! {}).await?;
        Ok(images.into_iter().map(|i| (i.id, i)).collect())
    }

    async fn images_by_request(&self, tenant: Option<Uuid>, requests: &[Uuid]) -> Result<HashMap<Uuid, Vec<Image>>> {
        self.images_via_generations(tenant, doc! { "_id": any_of(requests) }, "_id")
            .await
    }

    async fn images_by_campaign(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> Result<HashMap<Uuid, Vec<Image>>> {
        self.images_via_generations(tenant, doc! { "campaign_id": any_of(campaigns) }, "campaign_id")
            .await
    }

    async fn image_blob(&self, tenant: Option<Uuid>, id: Uuid) -> Result<Option<ImageBlob>> {
        let filter = all_of([Some(doc! { "_id": uuid(id) }), live(), images_visible_to(tenant)]);
        let Some(image) = self
            .collection(Collection::Images)
            .find_one(filter)
            .projection(doc! { "file.content_type": 1 })
            .await?
        else {
            return Ok(None);
        };
        let content_type = image
            .get_document("file")
            .and_then(|f| f.get_str("content_type"))
            .map_err(|e| StoreError::Shape(format!("images.file.content_type: {e}")))?
            .to_owned();
        let Some(blob) = self
            .collection(Collection::ImageBlobs)
            .find_one(doc! { "_id": uuid(id) })
            .await?
        else {
            return Ok(None);
        };
        let shape = |e: bson::document::ValueAccessError| StoreError::Shape(format!("image_blobs: {e}"));
        Ok(Some(ImageBlob {
            content_type,
            sha256: blob.get_str("sha256").map_err(shape)?.to_owned(),
            data: blob.get_binary_generic("data").map_err(shape)?.clone(),
        }))
    }

    async fn hashtags(&self, category: Option<&str>, after: Option<After<i64>>, first: usize) -> Result<Page<Hashtag>> {
        let filter = all_of([live(), category.map(|c| doc! { "category": c })]);
        // Most used first, then by id ascending.
        let keyset = after.map(|a| {
            doc! { "$or": [ { "usage_count": { "$lt": a.key } }, { "usage_count": a.key, "_id": { "$gt": uuid(a.id) } } ] }
        });
        self.page(
            Collection::Hashtags,
            filter,
            keyset,
            doc! { "usage_count": -1, "_id": 1 },
            first,
        )
        .await
    }

    async fn hashtags_by_id(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Hashtag>> {
        let filter = all_of([Some(doc! { "_id": any_of(ids) }), live()]);
        let found: Vec<Hashtag> = self.list(Collection::Hashtags, filter, doc! {}).await?;
        Ok(found.into_iter().map(|h| (h.id, h)).collect())
    }

    async fn hashtags_by_tag(&self, tags: &[String]) -> Result<HashMap<String, Hashtag>> {
        // `tag` and `deleted_at: null` together: the partial unique index on live tags serves it.
        let filter = doc! { "tag": { "$in": tags }, "deleted_at": Bson::Null };
        let found: Vec<Hashtag> = self.list(Collection::Hashtags, filter, doc! {}).await?;
        Ok(found.into_iter().map(|h| (h.tag.clone(), h)).collect())
    }

    async fn content_requests(
        &self,
        tenant: Option<Uuid>,
        filter: &RequestFilter,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<ContentRequest>> {
        let filter = all_of([
            live(),
            of_tenant(tenant),
            filter.campaign_id.map(|c| doc! { "campaign_id": uuid(c) }),
            filter.status.as_ref().map(|s| doc! { "status": s }),
        ]);
        let keyset = time_keyset("created_at", "$lt", after);
        let sort = doc! { "created_at": -1, "_id": -1 };
        self.page(Collection::ContentRequests, filter, keyset, sort, first)
            .await
    }

    async fn content_requests_by_id(
        &self,
        tenant: Option<Uuid>,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, ContentRequest>> {
        let filter = all_of([Some(doc! { "_id": any_of(ids) }), live(), of_tenant(tenant)]);
        let found: Vec<ContentRequest> = self.list(Collection::ContentRequests, filter, doc! {}).await?;
        Ok(found.into_iter().map(|r| (r.id, r)).collect())
    }

    async fn content_requests_by_campaign(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<ContentRequest>>> {
        let filter = all_of([
            Some(doc! { "campaign_id": any_of(campaigns) }),
            live(),
            of_tenant(tenant),
        ]);
        let sort = doc! { "created_at": -1, "_id": -1 };
        let found: Vec<ContentRequest> = self.list(Collection::ContentRequests, filter, sort).await?;
        Ok(group(found.into_iter().map(|r| (r.campaign_id, r))))
    }

    async fn create_content_request(&self, request: &NewContentRequest) -> Result<ContentRequest> {
        let document = request.document(Utc::now());
        document::validate(Collection::ContentRequests, &document)?;
        self.insert_stamped(Collection::ContentRequests, request.id, &document, "content request")
            .await
    }

    async fn create_campaign_log(&self, log: &NewCampaignLog) -> Result<CampaignLog> {
        let document = log.document(Utc::now());
        document::validate(Collection::CampaignLogs, &document)?;
        self.insert_stamped(Collection::CampaignLogs, log.id, &document, "campaign log")
            .await
    }

    async fn review_campaign_log(&self, tenant: Option<Uuid>, review: &LogReview) -> Result<Reviewed> {
        let logs = self.collection(Collection::CampaignLogs);
        let this = all_of([Some(doc! { "_id": uuid(review.id) }), live(), of_tenant(tenant)]);
        let pending = all_of([Some(this.clone()), Some(doc! { "status": "pending_approval" })]);
        // One conditional write; the server stamps the times ($$NOW), as everywhere in this store,
        // and the caller's texts are literals (a note starting with `$` is not a field path).
        let note = review
            .note
            .as_deref()
            .map_or(Bson::Null, |n| Bson::String(n.to_owned()));
        let set = doc! { "$set": {
            "status": { "$literal": review.status },
            "reviewed_by": { "$literal": &review.reviewer },
            "review_note": { "$literal": note },
            "reviewed_at": "$$NOW",
            "updated_at": "$$NOW",
        } };
        let reviewed = logs
            .find_one_and_update(pending, vec![set])
            .return_document(mongodb::options::ReturnDocument::After)
            .await?;
        if let Some(log) = reviewed {
            return Ok(Reviewed::Done(Box::new(from_document(log)?)));
        }
        Ok(match logs.find_one(this).await? {
            None => Reviewed::NotFound,
            Some(log) => Reviewed::NotPending(log.get_str("status").unwrap_or(document::LOG_SENT).to_owned()),
        })
    }

    async fn campaign_logs(
        &self,
        tenant: Option<Uuid>,
        campaign_id: Option<Uuid>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<CampaignLog>> {
        let filter = all_of([
            live(),
            of_tenant(tenant),
            campaign_id.map(|c| doc! { "campaign_id": uuid(c) }),
        ]);
        let keyset = time_keyset("created_at", "$lt", after);
        let sort = doc! { "created_at": -1, "_id": -1 };
        self.page(Collection::CampaignLogs, filter, keyset, sort, first).await
    }

    async fn campaign_logs_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, CampaignLog>> {
        let filter = all_of([Some(doc! { "_id": any_of(ids) }), live(), of_tenant(tenant)]);
        let found: Vec<CampaignLog> = self.list(Collection::CampaignLogs, filter, doc! {}).await?;
        Ok(found.into_iter().map(|l| (l.id, l)).collect())
    }

    async fn campaign_logs_by_campaign(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<CampaignLog>>> {
        let filter = all_of([
            Some(doc! { "campaign_id": any_of(campaigns) }),
            live(),
            of_tenant(tenant),
        ]);
        let sort = doc! { "population": 1, "channel_code": 1, "created_at": 1, "_id": 1 };
        let found: Vec<CampaignLog> = self.list(Collection::CampaignLogs, filter, sort).await?;
        Ok(group(found.into_iter().map(|l| (l.campaign_id, l))))
    }

    async fn integrations(
        &self,
        tenant: Option<Uuid>,
        after: Option<After<String>>,
        first: usize,
    ) -> Result<Page<Integration>> {
        let filter = all_of([live(), of_tenant(tenant)]);
        let keyset = after.map(|a| keyset("name", "$gt", Bson::String(a.key), a.id));
        let integrations = self.collection(Collection::Integrations);
        let total = integrations.count_documents(filter.clone()).await? as i64;
        let mut pipeline = vec![
            doc! { "$match": all_of([Some(filter), keyset]) },
            doc! { "$sort": { "name": 1, "_id": 1 } },
            doc! { "$limit": first as i64 + 1 },
        ];
        pipeline.extend(without_credentials());
        let items = collect(integrations.aggregate(pipeline).await?).await?;
        Ok(Page::from_overfetch(items, first, total))
    }

    async fn integrations_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Integration>> {
        let filter = all_of([Some(doc! { "_id": any_of(ids) }), live(), of_tenant(tenant)]);
        let mut pipeline = vec![doc! { "$match": filter }];
        pipeline.extend(without_credentials());
        let found: Vec<Integration> =
            collect(self.collection(Collection::Integrations).aggregate(pipeline).await?).await?;
        Ok(found.into_iter().map(|i| (i.id, i)).collect())
    }

    async fn images_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<Image>> {
        self.updated_since(Collection::Images, images_visible_to(tenant), since, after, first)
            .await
    }

    async fn content_requests_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<ContentRequest>> {
        self.updated_since(Collection::ContentRequests, of_tenant(tenant), since, after, first)
            .await
    }

    async fn campaign_logs_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<CampaignLog>> {
        self.updated_since(Collection::CampaignLogs, of_tenant(tenant), since, after, first)
            .await
    }
}
