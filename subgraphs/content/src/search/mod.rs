//! Search of the image library by meaning: `searchImages(text, first, hashtags)`.
//!
//! The query is embedded with all-MiniLM-L6-v2 (crates/embed; vectors cached in Redis under
//! `ps:emb:v1:{model}:{sha256(text)}` for 30 days), the HNSW index ([`index`]) proposes the
//! nearest images the caller may see, and [`rank`] adds the hashtag boost. Images carrying an
//! asked hashtag are always candidates, whatever their distance.
//!
//! Nothing here runs until the first search: the model (90 MB) is loaded and the index opened or
//! built then (the binary warms it up at start), so a process that never searches never pays for
//! it, and a missing model fails only `searchImages`, with a message that says how to get it.
//! The index follows the store's image change feed: at most every `refresh` a search first applies
//! what changed (new and edited images embedded, deleted ones removed) and saves the index.

pub mod index;
pub mod rank;

use std::{
    path::PathBuf,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use promptsales_embed::{DIMENSIONS, Embedder};
use promptsales_platform::redis::{KeySpace, Redis};
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, OnceCell};
use uuid::Uuid;

use self::index::{Entry, ImageIndex};
use crate::store::{After, ContentStore, Image, StoreError};

/// Longest query text, in characters.
pub const MAX_QUERY: usize = 1_000;
/// Most images one search returns.
pub const MAX_RESULTS: usize = 50;
/// How long a query's embedding stays in Redis.
const EMBEDDING_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// Images read from the change feed per store call, and embedded per model call.
const FEED_PAGE: usize = 500;
const EMBED_BATCH: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The caller's input is not usable: which argument, and why.
    #[error("{field}: {message}")]
    Input { field: &'static str, message: String },
    #[error(transparent)]
    Model(#[from] promptsales_embed::Error),
    #[error("image index: {0}")]
    Index(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the embedding task stopped: {0}")]
    Task(String),
}

/// Where the model and the index are, and how fresh the index must be.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    /// Folder of `config.json`, `tokenizer.json` and `model.safetensors`.
    pub model_dir: PathBuf,
    /// Folder the index is saved in; `None` keeps it in memory only (tests).
    pub index_dir: Option<PathBuf>,
    /// Longest time a search may use the index without checking the store for changed images.
    pub refresh: Duration,
    /// Cache of query embeddings; `None`: every query is embedded.
    pub redis: Option<Redis>,
}

impl Default for SearchOptions {
    fn default() -> SearchOptions {
        SearchOptions {
            model_dir: promptsales_embed::default_model_dir(),
            index_dir: None,
            refresh: Duration::from_secs(10),
            redis: None,
        }
    }
}

/// How the query was embedded, for the caller's AI usage record.
#[derive(Debug, Clone)]
pub struct QueryEmbedding {
    pub model: String,
    pub tokens: usize,
    pub cache_hit: bool,
    pub millis: u64,
}

/// One found image.
#[derive(Debug, Clone)]
pub struct Hit {
    pub image: Image,
    /// Similarity plus boost.
    pub score: f32,
    /// Cosine similarity of the query and the image's text.
    pub similarity: f32,
    /// The image's hashtags that earned a boost.
    pub matched_hashtags: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SearchOutcome {
    pub embedding: QueryEmbedding,
    pub hits: Vec<Hit>,
}

/// The model and the index, once loaded.
struct Engine {
    embedder: Arc<Embedder>,
    index: RwLock<ImageIndex>,
    /// When the index last caught up with the store; held while it catches up, so one does.
    synced: Mutex<Option<Instant>>,
}

/// The search of one subgraph process; cheap to share.
pub struct SearchService {
    store: Arc<dyn ContentStore>,
    options: SearchOptions,
    engine: OnceCell<Arc<Engine>>,
}

/// The text an image is indexed by: its description and its hashtags as words.
pub fn image_text(image: &Image) -> String {
    let tags: Vec<String> = image.hashtags.iter().map(|t| t.replace('_', " ")).collect();
    format!("{} Hashtags: {}.", image.description.trim(), tags.join(", "))
}

fn read_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn embed_blocking(
    embedder: &Arc<Embedder>,
    texts: Vec<String>,
) -> Result<Vec<promptsales_embed::Embedding>, SearchError> {
    let embedder = embedder.clone();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        embedder.embed(&refs)
    })
    .await
    .map_err(|e| SearchError::Task(e.to_string()))?
    .map_err(SearchError::Model)
}

impl SearchService {
    pub fn new(store: Arc<dyn ContentStore>, options: SearchOptions) -> SearchService {
        SearchService {
            store,
            options,
            engine: OnceCell::new(),
        }
    }

    /// Loads the model and brings the index up to date (the binary calls it at start).
    pub async fn warm_up(&self) -> Result<(), SearchError> {
        let engine = self.engine().await?;
        self.sync(&engine, true).await
    }

    async fn engine(&self) -> Result<Arc<Engine>, SearchError> {
        self.engine
            .get_or_try_init(|| async {
                let dir = self.options.model_dir.clone();
                let embedder = tokio::task::spawn_blocking(move || Embedder::load(&dir))
                    .await
                    .map_err(|e| SearchError::Task(e.to_string()))??;
                let index = self
                    .options
                    .index_dir
                    .as_deref()
                    .and_then(|dir| ImageIndex::open(dir, embedder.id(), DIMENSIONS));
                let index = match index {
                    Some(index) => index,
                    None => ImageIndex::empty(self.options.index_dir.as_deref(), embedder.id(), DIMENSIONS)?,
                };
                Ok::<_, SearchError>(Arc::new(Engine {
                    embedder: Arc::new(embedder),
                    index: RwLock::new(index),
                    synced: Mutex::new(None),
                }))
            })
            .await
            .cloned()
    }

    /// Applies the store's image changes since the index's watermark; when `force` is false only
    /// if the last catch-up is older than `refresh`. When the index then holds a different number
    /// of images than the store (the store was replaced, or a change was missed) it is rebuilt.
    async fn sync(&self, engine: &Arc<Engine>, force: bool) -> Result<(), SearchError> {
        let mut synced = engine.synced.lock().await;
        if !force && synced.is_some_and(|at| at.elapsed() < self.options.refresh) {
            return Ok(());
        }
        let mut changed = self.catch_up(engine).await?;
        let live = self.store.images(None, None, None, 1).await?.total;
        if usize::try_from(live).ok() != Some(read_lock(&engine.index).len()) {
            tracing::info!(live, "image index disagrees with the store: rebuilding");
            let fresh = ImageIndex::empty(self.options.index_dir.as_deref(), engine.embedder.id(), DIMENSIONS)?;
            *write_lock(&engine.index) = fresh;
            self.catch_up(engine).await?;
            changed = true;
        }
        if changed && self.options.index_dir.is_some() {
            read_lock(&engine.index).save()?;
        }
        *synced = Some(Instant::now());
        Ok(())
    }

    /// Reads the change feed from the watermark on; whether anything changed.
    async fn catch_up(&self, engine: &Arc<Engine>) -> Result<bool, SearchError> {
        let mut changed = false;
        loop {
            let watermark = read_lock(&engine.index).watermark;
            // The feed is strictly after `since`: a second before the watermark, then the keyset.
            let since = watermark.map_or(DateTime::<Utc>::UNIX_EPOCH, |(at, _)| at - chrono::Duration::seconds(1));
            let after = watermark.map(|(key, id)| After { key, id });
            let page = self.store.images_updated_since(None, since, after, FEED_PAGE).await?;
            let Some(last) = page.items.last().map(|i| (i.updated_at, i.id)) else {
                return Ok(changed);
            };
            changed = true;
            let (live, deleted): (Vec<Image>, Vec<Image>) =
                page.items.into_iter().partition(|i| i.deleted_at.is_none());
            let mut vectors = Vec::with_capacity(live.len());
            for chunk in live.chunks(EMBED_BATCH) {
                let texts = chunk.iter().map(image_text).collect();
                vectors.extend(embed_blocking(&engine.embedder, texts).await?);
            }
            let mut index = write_lock(&engine.index);
            for image in deleted {
                index.remove(image.id)?;
            }
            for (image, embedding) in live.into_iter().zip(vectors) {
                let entry = Entry {
                    key: 0,
                    id: image.id,
                    organization_id: image.organization_id,
                    hashtags: image.hashtags.clone(),
                    updated_at: image.updated_at,
                };
                index.upsert(entry, &embedding.vector)?;
            }
            index.watermark = Some(last);
            if !page.has_more {
                return Ok(changed);
            }
        }
    }

    /// The query's embedding, from Redis when another search made it.
    async fn embed_query(&self, engine: &Arc<Engine>, text: &str) -> Result<(Vec<f32>, QueryEmbedding), SearchError> {
        let started = Instant::now();
        let model = engine.embedder.id().to_owned();
        let digest = Sha256::digest(text.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let key = self
            .options
            .redis
            .as_ref()
            .map(|r| (r, r.keys().key(KeySpace::Emb, &[&model, &hex])));
        if let Some((redis, key)) = &key
            && let Ok(Some(bytes)) = redis.query::<Option<Vec<u8>>>("GET", redis::cmd("GET").arg(key)).await
            && let Some((tokens, vector)) = decode(&bytes)
        {
            let embedding = QueryEmbedding {
                model,
                tokens,
                cache_hit: true,
                millis: started.elapsed().as_millis() as u64,
            };
            return Ok((vector, embedding));
        }
        let embedding = embed_blocking(&engine.embedder, vec![text.to_owned()])
            .await?
            .pop()
            .ok_or(SearchError::Model(promptsales_embed::Error::Empty))?;
        if let Some((redis, key)) = &key {
            let value = encode(embedding.tokens, &embedding.vector);
            // A cache that fails costs nothing but the next embedding.
            let _ = redis
                .query::<()>(
                    "SET",
                    redis::cmd("SET")
                        .arg(key)
                        .arg(value)
                        .arg("EX")
                        .arg(EMBEDDING_TTL.as_secs()),
                )
                .await;
        }
        let info = QueryEmbedding {
            model,
            tokens: embedding.tokens,
            cache_hit: false,
            millis: started.elapsed().as_millis() as u64,
        };
        Ok((embedding.vector, info))
    }

    /// Images matching `text` that `tenant` may see, best first.
    pub async fn search(
        &self,
        tenant: Option<Uuid>,
        text: &str,
        first: usize,
        hashtags: &[String],
    ) -> Result<SearchOutcome, SearchError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(input("text", "text must not be empty".into()));
        }
        if text.chars().count() > MAX_QUERY {
            return Err(input("text", format!("text must be at most {MAX_QUERY} characters")));
        }
        if first == 0 || first > MAX_RESULTS {
            return Err(input("first", format!("first must be between 1 and {MAX_RESULTS}")));
        }
        if hashtags.len() > rank::MAX_ASKED {
            return Err(input("hashtags", format!("at most {} hashtags", rank::MAX_ASKED)));
        }
        let asked: Vec<String> = hashtags
            .iter()
            .map(|h| rank::normalise_tag(h))
            .filter(|h| !h.is_empty())
            .collect();

        let engine = self.engine().await?;
        self.sync(&engine, false).await?;
        let (query, embedding) = self.embed_query(&engine, text).await?;

        let spelled = rank::spelled_tags(text);
        let mut scored: Vec<(Uuid, f32, f32, Vec<String>)> = {
            let index = read_lock(&engine.index);
            // A wide candidate set: the boost can reorder neighbours beyond the first page.
            let mut candidates = index.nearest(&query, (first * 4).max(40), tenant)?;
            if !asked.is_empty() {
                for e in index
                    .entries()
                    .filter(|e| e.visible_to(tenant) && e.hashtags.iter().any(|t| asked.contains(t)))
                {
                    if !candidates.iter().any(|(k, _)| *k == e.key)
                        && let Some(v) = index.vector(e.key)
                    {
                        candidates.push((e.key, promptsales_embed::cosine(&query, &v)));
                    }
                }
            }
            candidates
                .into_iter()
                .filter_map(|(key, similarity)| {
                    let entry = index.entry(key)?;
                    let (boost, matched) = rank::boost(&entry.hashtags, &asked, &spelled);
                    Some((entry.id, similarity + boost, similarity, matched))
                })
                .collect()
        };
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(first);

        // The store has the last word on what exists and who may see it.
        let ids: Vec<Uuid> = scored.iter().map(|s| s.0).collect();
        let mut images = self.store.images_by_id(tenant, &ids).await?;
        let hits = scored
            .into_iter()
            .filter_map(|(id, score, similarity, matched_hashtags)| {
                images.remove(&id).map(|image| Hit {
                    image,
                    score,
                    similarity,
                    matched_hashtags,
                })
            })
            .collect();
        Ok(SearchOutcome { embedding, hits })
    }

    /// The `k` images nearest to `text` by vector alone, from the HNSW walk or (`exact`) by
    /// comparing with every image: what the recall test and the benchmark compare.
    pub async fn nearest_ids(&self, text: &str, k: usize, exact: bool) -> Result<Vec<Uuid>, SearchError> {
        let engine = self.engine().await?;
        self.sync(&engine, false).await?;
        let (query, _) = self.embed_query(&engine, text).await?;
        let index = read_lock(&engine.index);
        let keys = if exact {
            index.nearest_exact(&query, k, None)
        } else {
            index.nearest(&query, k, None)?
        };
        Ok(keys
            .into_iter()
            .filter_map(|(key, _)| index.entry(key).map(|e| e.id))
            .collect())
    }

    /// How many images the index holds (after catching up with the store).
    pub async fn indexed(&self) -> Result<usize, SearchError> {
        let engine = self.engine().await?;
        self.sync(&engine, true).await?;
        Ok(read_lock(&engine.index).len())
    }
}

fn input(field: &'static str, message: String) -> SearchError {
    SearchError::Input { field, message }
}

/// Cache value: token count (u32 LE), then the vector (f32 LE).
fn encode(tokens: usize, vector: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + vector.len() * 4);
    out.extend_from_slice(&u32::try_from(tokens).unwrap_or(u32::MAX).to_le_bytes());
    for x in vector {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

fn decode(bytes: &[u8]) -> Option<(usize, Vec<f32>)> {
    if bytes.len() != 4 + DIMENSIONS * 4 {
        return None;
    }
    let (head, body) = bytes.split_at(4);
    let tokens = u32::from_le_bytes(head.try_into().ok()?) as usize;
    let vector = body
        .chunks_exact(4)
        .map(|c| c.try_into().map(f32::from_le_bytes))
        .collect::<Result<Vec<f32>, _>>()
        .ok()?;
    Some((tokens, vector))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_round_trip_cached_embeddings_and_refuse_other_shapes() {
        let vector: Vec<f32> = (0..DIMENSIONS).map(|i| i as f32 / 7.0).collect();
        let bytes = encode(17, &vector);
        assert_eq!(decode(&bytes), Some((17, vector)));
        assert_eq!(decode(&bytes[..bytes.len() - 4]), None);
    }
}
