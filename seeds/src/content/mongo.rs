//! The records as MongoDB documents, field for field as the validators of
//! `sql/content/mongodb/0001_init.json` require: every field present (null when empty), UUIDs as
//! binData subtype 4, times as BSON dates, money as Decimal128, whole numbers as int or long.

use std::str::FromStr;

use bson::{Binary, Bson, Document, doc, spec::BinarySubtype};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    ContentSet,
    records::{CampaignLog, ContentRequest, GenerationLog, Hashtag, Image, ImageBlob, Integration},
};

fn id(u: Uuid) -> Bson {
    Bson::Binary(Binary {
        subtype: BinarySubtype::Uuid,
        bytes: u.as_bytes().to_vec(),
    })
}

fn opt_id(u: Option<Uuid>) -> Bson {
    u.map_or(Bson::Null, id)
}

fn date(t: DateTime<Utc>) -> Bson {
    Bson::DateTime(bson::DateTime::from_chrono(t))
}

fn opt_date(t: Option<DateTime<Utc>>) -> Bson {
    t.map_or(Bson::Null, date)
}

fn bytes(b: &[u8]) -> Bson {
    Bson::Binary(Binary {
        subtype: BinarySubtype::Generic,
        bytes: b.to_vec(),
    })
}

fn long(n: u64) -> Bson {
    Bson::Int64(i64::try_from(n).expect("counts and sizes fit in a long"))
}

fn strings(items: &[String]) -> Bson {
    Bson::Array(items.iter().map(|s| Bson::String(s.clone())).collect())
}

fn image(i: &Image) -> Document {
    doc! {
        "_id": id(i.id),
        "organization_id": opt_id(i.organization_id),
        "file": {
            "name": &i.file.name,
            "content_type": &i.file.content_type,
            "size_bytes": long(i.file.size_bytes),
            "width": long(u64::from(i.file.width)),
            "height": long(u64::from(i.file.height)),
            "sha256": &i.file.sha256,
        },
        "format": &i.format,
        "description": &i.description,
        "alt_text": &i.alt_text,
        "hashtags": strings(&i.hashtags),
        "palette": strings(&i.palette),
        "subjects": strings(&i.subjects),
        "usage_rights": {
            "license": &i.usage_rights.license,
            "owner": &i.usage_rights.owner,
            "expires_at": opt_date(i.usage_rights.expires_at),
            "allowed_channels": strings(&i.usage_rights.allowed_channels),
        },
        "created_at": date(i.created_at),
        "updated_at": date(i.updated_at),
        "deleted_at": opt_date(i.deleted_at),
    }
}

fn blob(b: &ImageBlob) -> Document {
    doc! { "_id": id(b.image_id), "data": bytes(&b.data), "sha256": &b.sha256 }
}

fn hashtag(h: &Hashtag) -> Document {
    doc! {
        "_id": id(h.id),
        "tag": &h.tag,
        "category": &h.category,
        "usage_count": long(h.usage_count),
        "created_at": date(h.created_at),
        "updated_at": date(h.updated_at),
        "deleted_at": opt_date(h.deleted_at),
    }
}

fn request(r: &ContentRequest) -> Document {
    let audiences: Vec<Bson> = r
        .target_audiences
        .iter()
        .map(|a| {
            Bson::Document(doc! {
                "name": &a.name,
                "age_min": i32::from(a.age_min),
                "age_max": i32::from(a.age_max),
                "locales": strings(&a.locales),
                "interests": strings(&a.interests),
                "country_codes": strings(&a.country_codes),
            })
        })
        .collect();
    doc! {
        "_id": id(r.id),
        "organization_id": id(r.organization_id),
        "campaign_id": id(r.campaign_id),
        "campaign_description": &r.campaign_description,
        "target_audiences": audiences,
        "status": &r.status,
        "requested_by": id(r.requested_by),
        "created_at": date(r.created_at),
        "updated_at": date(r.updated_at),
        "deleted_at": opt_date(r.deleted_at),
    }
}

fn campaign_log(l: &CampaignLog) -> Document {
    let messages: Vec<Bson> = l
        .messages
        .iter()
        .map(|m| Bson::Document(doc! { "at": date(m.at), "locale": &m.locale, "text": &m.text }))
        .collect();
    doc! {
        "_id": id(l.id),
        "organization_id": id(l.organization_id),
        "campaign_id": id(l.campaign_id),
        "population": &l.population,
        "channel_code": &l.channel_code,
        "messages": messages,
        "created_at": date(l.created_at),
        "updated_at": date(l.updated_at),
        "deleted_at": opt_date(l.deleted_at),
    }
}

fn integration(i: &Integration) -> Document {
    doc! {
        "_id": id(i.id),
        "organization_id": id(i.organization_id),
        "name": &i.name,
        "kind": &i.kind,
        "endpoint": &i.endpoint,
        "auth_method": &i.auth_method,
        "credentials_enc": i.credentials_enc.as_deref().map_or(Bson::Null, bytes),
        "credentials_key_id": i.credentials_key_id.clone().map_or(Bson::Null, Bson::String),
        "enabled": i.enabled,
        "created_at": date(i.created_at),
        "updated_at": date(i.updated_at),
        "deleted_at": opt_date(i.deleted_at),
    }
}

fn generation_log(g: &GenerationLog) -> Document {
    let cost = bson::Decimal128::from_str(&g.cost_usd.normalize().to_string())
        .expect("a rust_decimal prints as a decimal string Decimal128 parses");
    doc! {
        "_id": id(g.id),
        "organization_id": opt_id(g.organization_id),
        "request_id": opt_id(g.request_id),
        "kind": &g.kind,
        "model": &g.model,
        "prompt": &g.prompt,
        "output_ref": g.output_ref.clone().map_or(Bson::Null, Bson::String),
        "tokens_in": long(g.tokens_in),
        "tokens_out": long(g.tokens_out),
        "latency_ms": long(g.latency_ms),
        "cost_usd": cost,
        "created_at": date(g.created_at),
        "updated_at": date(g.updated_at),
    }
}

/// Every record as a document, by collection, in an order that loads without dangling references
/// (images before their blobs, content requests before the generation logs naming them).
pub(super) fn documents(set: &ContentSet) -> Vec<(&'static str, Vec<Document>)> {
    vec![
        ("images", set.images.iter().map(image).collect()),
        ("image_blobs", set.image_blobs.iter().map(blob).collect()),
        ("hashtags", set.hashtags.iter().map(hashtag).collect()),
        ("content_requests", set.content_requests.iter().map(request).collect()),
        ("campaign_logs", set.campaign_logs.iter().map(campaign_log).collect()),
        ("integrations", set.integrations.iter().map(integration).collect()),
        (
            "generation_logs",
            set.generation_logs.iter().map(generation_log).collect(),
        ),
    ]
}
