//! (Scopes are the gateway's to enforce, from `@requiresScopes`; the gateway's tests cover them.)
//!
//! `searchImages` over the small seed with the real model (all-MiniLM-L6-v2 from
//! `.tools/models/`, fetched by scripts/dev-services.sh): retrieval quality, the ANN index against
//! exact search, index upkeep, tenancy and the GraphQL field.
//!
//! The seeded descriptions are English (seeds/data/content/phrases.txt), which is the language the
//! model was trained on.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use axum::{body::Body, http::Request};
use promptsales_content::{
    AppState, Config, app,
    search::{SearchOptions, SearchService},
    store::{ContentStore, Image, PgStore},
};
use promptsales_platform::claims::{self, Claims, ClaimsKey};
use promptsales_testkit::SeededStores;
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

/// Queries a marketer would type, one per kind of picture the seed draws.
const QUERIES: &[&str] = &[
    "a cup of hot coffee with steam",
    "running shoes for a marathon",
    "a smartphone with app icons on the screen",
    "sunglasses for the summer",
    "a bicycle seen from the side",
    "snowy mountain peaks for a hiking trip",
    "a sunny beach with an umbrella by the sea",
    "city skyline at night with towers",
    "a gift box with a ribbon for Christmas",
    "a shopping bag for a fashion sale",
    "over-ear headphones for music lovers",
    "a green potted plant for the home",
    "a laptop showing a chart",
    "a wristwatch with a leather strap",
    "a school backpack for students",
    "black friday promotion",
    "back to school campaign",
    "valentine's day offer",
    "a pattern of small repeated icons in a grid",
    "an illustration with a pastel palette and sparkles",
];

fn options() -> SearchOptions {
    SearchOptions {
        refresh: Duration::ZERO,
        ..SearchOptions::default()
    }
}

async fn seeded() -> (SeededStores, Arc<PgStore>) {
    let stores = SeededStores::small().await;
    let pg = Arc::new(PgStore::from_pool(stores.content.pool().clone()));
    (stores, pg)
}

async fn all_images(pg: &PgStore) -> Vec<Image> {
    pg.images(None, None, None, 100).await.expect("images").items
}

#[tokio::test]
async fn should_find_with_the_ann_index_what_exact_search_finds_recall_at_10() {
    let (_stores, pg) = seeded().await;
    let search = SearchService::new(pg.clone(), options());
    let indexed = search
        .indexed()
        .await
        .expect("the index builds (is the model installed?)");
    assert_eq!(indexed, all_images(&pg).await.len());

    // Queries: the typed ones and each image's own alt text (a second phrasing of it).
    let mut queries: Vec<String> = QUERIES.iter().map(|q| (*q).to_owned()).collect();
    queries.extend(all_images(&pg).await.into_iter().map(|i| i.alt_text));
    let k = 10;
    let (mut found, mut wanted) = (0usize, 0usize);
    for q in &queries {
        let ann: BTreeSet<Uuid> = search
            .nearest_ids(q, k, false)
            .await
            .expect("ann")
            .into_iter()
            .collect();
        let exact: Vec<Uuid> = search.nearest_ids(q, k, true).await.expect("exact");
        wanted += exact.len();
        found += exact.iter().filter(|id| ann.contains(id)).count();
    }
    let recall = found as f64 / wanted as f64;
    println!(
        "recall@{k} of the HNSW index against exact search: {recall:.4} ({found}/{wanted}, {} queries, {indexed} images)",
        queries.len()
    );
    assert!(recall >= 0.95, "recall@{k} = {recall}");
}

#[tokio::test]
async fn should_rank_first_an_image_of_the_subject_the_text_describes() {
    let (_stores, pg) = seeded().await;
    let search = SearchService::new(pg.clone(), options());
    let images = all_images(&pg).await;
    // Every subject the seed drew, asked for in other words than its description's.
    let subjects: BTreeSet<String> = images.iter().filter_map(|i| i.subjects.first().cloned()).collect();
    assert!(subjects.len() >= 5, "the seed draws several subjects: {subjects:?}");
    let mut misses = Vec::new();
    for subject in &subjects {
        let text = format!("picture of a {subject} for an ad");
        let outcome = search.search(None, &text, 3, &[]).await.expect("search");
        let top = &outcome.hits[0].image;
        if !top.subjects.contains(subject) {
            misses.push(format!("{text:?} → {:?}", top.subjects));
        }
        assert!(outcome.hits.windows(2).all(|w| w[0].score >= w[1].score), "best first");
    }
    assert!(misses.is_empty(), "the first hit did not show the subject: {misses:#?}");
}

#[tokio::test]
async fn should_boost_images_carrying_the_asked_hashtags() {
    let (_stores, pg) = seeded().await;
    let search = SearchService::new(pg.clone(), options());
    let images = all_images(&pg).await;
    let plain = search.search(None, "an illustration", 5, &[]).await.expect("search");
    let top_plain = &plain.hits[0].image;
    // The rarest tag the plain first hit does not carry, asked for with the same text.
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for i in &images {
        for t in &i.hashtags {
            *counts.entry(t.as_str()).or_default() += 1;
        }
    }
    let (tag, _) = counts
        .iter()
        .filter(|(t, _)| !top_plain.hashtags.iter().any(|h| h.as_str() == **t))
        .min_by_key(|(_, n)| **n)
        .expect("a tag");
    let tag = (*tag).to_owned();
    let boosted = search
        .search(None, "an illustration", 5, &[format!("#{tag}")])
        .await
        .expect("search");
    let top = &boosted.hits[0];
    assert!(top.image.hashtags.contains(&tag), "an image tagged {tag} comes first");
    assert_eq!(top.matched_hashtags, vec![tag.clone()]);
    assert!(
        (top.score - top.similarity - 0.15).abs() < 1e-4,
        "{} vs {}",
        top.score,
        top.similarity
    );
    assert_ne!(top.image.id, top_plain.id, "the asked hashtag changes the ranking");
}

#[tokio::test]
async fn should_show_a_tenant_only_its_own_images_and_the_stock_library() {
    let (_stores, pg) = seeded().await;
    let search = SearchService::new(pg.clone(), options());
    let images = all_images(&pg).await;
    let org = images
        .iter()
        .find_map(|i| i.organization_id)
        .expect("the seed has tenant images");
    let outcome = search
        .search(Some(org), "an illustration for a campaign", 50, &[])
        .await
        .expect("search");
    assert!(!outcome.hits.is_empty());
    for hit in &outcome.hits {
        assert!(
            hit.image.organization_id.is_none() || hit.image.organization_id == Some(org),
            "{:?} is another tenant's",
            hit.image.id
        );
    }
    let visible = images
        .iter()
        .filter(|i| i.organization_id.is_none() || i.organization_id == Some(org))
        .count();
    assert_eq!(outcome.hits.len(), visible.min(50));
}

#[tokio::test]
async fn should_index_an_added_image_and_drop_a_deleted_one() {
    let (stores, pg) = seeded().await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let opts = SearchOptions {
        index_dir: Some(dir.path().to_owned()),
        ..options()
    };
    let search = SearchService::new(pg.clone(), opts.clone());
    let before = search.indexed().await.expect("index");
    let graph = dir.path().join("images.usearch");
    assert!(
        graph.is_file() && dir.path().join("images.json").is_file(),
        "saved on disk"
    );

    // A reopened index is used as it is: nothing changed, so nothing is rewritten.
    let written = std::fs::metadata(&graph).and_then(|m| m.modified()).expect("mtime");
    let again = SearchService::new(pg.clone(), opts.clone());
    assert_eq!(again.indexed().await.expect("reopened"), before);
    assert_eq!(
        std::fs::metadata(&graph).and_then(|m| m.modified()).expect("mtime"),
        written
    );

    let source = all_images(&pg).await.remove(0);
    let id = Uuid::new_v4();
    let description = "A purple octopus juggles eight oranges on a unicycle in a circus tent, under a striped \
                       canvas roof and bright spotlights, while a crowd of seals claps from wooden benches. \
                       Flat shapes and clean edges make it ready for a circus ticket promotion.";
    sqlx::query(
        "INSERT INTO content.images (id, organization_id, format, hashtags, doc)
         SELECT $1, organization_id, format, ARRAY['circus', 'octopus', 'event'],
                jsonb_set(doc, '{description}', to_jsonb($2::text))
         FROM content.images WHERE id = $3",
    )
    .bind(id)
    .bind(description)
    .bind(source.id)
    .execute(stores.content.pool())
    .await
    .expect("an image added");

    let outcome = again
        .search(None, "octopus juggling in a circus", 1, &[])
        .await
        .expect("search");
    assert_eq!(outcome.hits[0].image.id, id, "the new image is found");
    assert_eq!(again.indexed().await.expect("index"), before + 1);

    sqlx::query("UPDATE content.images SET deleted_at = now() WHERE id = $1")
        .bind(id)
        .execute(stores.content.pool())
        .await
        .expect("deleted");
    let outcome = again
        .search(None, "octopus juggling in a circus", 5, &[])
        .await
        .expect("search");
    assert!(outcome.hits.iter().all(|h| h.image.id != id), "a deleted image is gone");
    assert_eq!(again.indexed().await.expect("index"), before);
}

fn subgraph(pg: Arc<PgStore>, key: &ClaimsKey) -> axum::Router {
    let config = Config {
        port: 0,
        content_url: None,
        public_url: Some("https://api.example.com".into()),
        dev_graphiql: false,
        model_dir: None,
        index_dir: None,
        embedding_cache: false,
    };
    app(AppState::new(pg, key.clone(), &config), &config)
}

async fn graphql(router: &axum::Router, key: &ClaimsKey, claims: &Claims, query: &str, variables: Value) -> Value {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header(claims::HEADER, key.sign(claims))
        .body(Body::from(body))
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("call");
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24).await.expect("body");
    serde_json::from_slice(&bytes).expect("JSON")
}

const SEARCH: &str = "query($text: String!, $first: Int!, $tags: [String!]!) {
  searchImages(text: $text, first: $first, hashtags: $tags) {
    model queryTokens embeddingCacheHit embeddingMs
    hits { score similarity hashtags matchedHashtags image { id url description } }
  }
}";

#[tokio::test]
async fn should_answer_search_images_with_scores_hashtags_and_absolute_urls() {
    let (_stores, pg) = seeded().await;
    let key = ClaimsKey::random();
    let router = subgraph(pg, &key);
    let reader = Claims::staff(&Uuid::new_v4().to_string(), &["content:read"]);
    let body = graphql(
        &router,
        &key,
        &reader,
        SEARCH,
        json!({ "text": "a cup of coffee", "first": 3, "tags": ["coffee"] }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    let result = &body["data"]["searchImages"];
    assert!(
        result["model"]
            .as_str()
            .is_some_and(|m| m.starts_with("all-MiniLM-L6-v2-"))
    );
    assert!(result["queryTokens"].as_i64().is_some_and(|t| t > 2));
    let hits = result["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 3);
    let first = &hits[0];
    assert!(first["hashtags"].as_array().is_some_and(|t| !t.is_empty()));
    let url = first["image"]["url"].as_str().expect("url");
    assert_eq!(
        url,
        format!(
            "https://api.example.com/images/{}",
            first["image"]["id"].as_str().expect("id")
        )
    );

    // Bad arguments name the argument.
    for (variables, field) in [
        (json!({ "text": "  ", "first": 3, "tags": [] }), "text"),
        (json!({ "text": "coffee", "first": 0, "tags": [] }), "first"),
        (
            json!({ "text": "coffee", "first": 3, "tags": vec!["a"; 11] }),
            "hashtags",
        ),
    ] {
        let body = graphql(&router, &key, &reader, SEARCH, variables).await;
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert_eq!(error["extensions"]["field"], field, "{body}");
    }
}
