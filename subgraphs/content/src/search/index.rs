//! The approximate-nearest-neighbour index of the image library: one HNSW graph (usearch, cosine
//! metric) over the embedding of each live image's description and hashtags, and beside it what a
//! search needs without the store: which image a key stands for, its organization (for tenant
//! filtering inside the graph walk) and its hashtags (for the boost).
//!
//! On disk it is two files in one folder: `images.usearch` (the graph and vectors) and
//! `images.json` (the manifest: model id, entries and the store's change watermark). Both are
//! written to a temporary name and renamed, so a reader never sees half a file. On open the
//! manifest must name the same model and dimensions and agree with the graph's size, or the index
//! is rebuilt from the store; after that the store's change feed brings it up to date.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use usearch::{Index, IndexOptions, MetricKind, ScalarKind};
use uuid::Uuid;

use super::SearchError;

const GRAPH_FILE: &str = "images.usearch";
const MANIFEST_FILE: &str = "images.json";
/// Bumped when the manifest or the embedded text changes shape: an old index is then rebuilt.
const FORMAT: u32 = 1;

/// HNSW parameters: usearch's defaults for connectivity, a wider beam when searching because the
/// tenant filter can reject many neighbours on the way.
const CONNECTIVITY: usize = 16;
const EXPANSION_ADD: usize = 128;
const EXPANSION_SEARCH: usize = 96;

/// What the index keeps about one image.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    pub key: u64,
    pub id: Uuid,
    /// `None`: the stock library, visible to every tenant.
    pub organization_id: Option<Uuid>,
    pub hashtags: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

impl Entry {
    /// Whether a caller of `tenant` (`None`: staff) may see the image.
    pub fn visible_to(&self, tenant: Option<Uuid>) -> bool {
        match (tenant, self.organization_id) {
            (None, _) | (_, None) => true,
            (Some(t), Some(o)) => t == o,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    model: String,
    dimensions: usize,
    next_key: u64,
    /// The last change of the store's image feed already applied: `(updated_at, id)`.
    watermark: Option<(DateTime<Utc>, Uuid)>,
    entries: Vec<Entry>,
}

/// The index in memory.
pub struct ImageIndex {
    graph: Index,
    entries: HashMap<u64, Entry>,
    keys: HashMap<Uuid, u64>,
    next_key: u64,
    pub watermark: Option<(DateTime<Utc>, Uuid)>,
    model: String,
    dimensions: usize,
    /// `None`: kept in memory only.
    dir: Option<PathBuf>,
}

fn usearch_error(what: &str, e: impl std::fmt::Display) -> SearchError {
    SearchError::Index(format!("{what}: {e}"))
}

fn new_graph(dimensions: usize) -> Result<Index, SearchError> {
    let options = IndexOptions {
        dimensions,
        metric: MetricKind::Cos,
        quantization: ScalarKind::F32,
        connectivity: CONNECTIVITY,
        expansion_add: EXPANSION_ADD,
        expansion_search: EXPANSION_SEARCH,
        multi: false,
    };
    Index::new(&options).map_err(|e| usearch_error("creating the index", e))
}

impl ImageIndex {
    /// An empty index for vectors of `model` with `dimensions` numbers, kept in `dir`.
    pub fn empty(dir: Option<&Path>, model: &str, dimensions: usize) -> Result<ImageIndex, SearchError> {
        Ok(ImageIndex {
            graph: new_graph(dimensions)?,
            entries: HashMap::new(),
            keys: HashMap::new(),
            next_key: 1,
            watermark: None,
            model: model.to_owned(),
            dimensions,
            dir: dir.map(Path::to_owned),
        })
    }

    /// The index saved in `dir`, when it is there, whole, and made with this model; `None` when
    /// it must be rebuilt (the reason is logged).
    pub fn open(dir: &Path, model: &str, dimensions: usize) -> Option<ImageIndex> {
        let manifest_path = dir.join(MANIFEST_FILE);
        let graph_path = dir.join(GRAPH_FILE);
        let manifest: Manifest = match std::fs::read(&manifest_path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(path = %manifest_path.display(), error = %e, "index manifest unreadable: rebuilding");
                    return None;
                }
            },
            Err(_) => {
                tracing::info!(dir = %dir.display(), "no image index on disk: building it");
                return None;
            }
        };
        if manifest.format != FORMAT || manifest.model != model || manifest.dimensions != dimensions {
            tracing::info!(dir = %dir.display(), "image index made by another model or format: rebuilding");
            return None;
        }
        let graph = new_graph(dimensions).ok()?;
        let Some(path) = graph_path.to_str() else {
            tracing::warn!(dir = %dir.display(), "index path is not UTF-8: rebuilding in memory");
            return None;
        };
        if let Err(e) = graph.load(path) {
            tracing::warn!(error = %e, "image index graph unreadable: rebuilding");
            return None;
        }
        if graph.size() != manifest.entries.len() || graph.dimensions() != dimensions {
            tracing::warn!(dir = %dir.display(), "image index graph and manifest disagree: rebuilding");
            return None;
        }
        let keys = manifest.entries.iter().map(|e| (e.id, e.key)).collect();
        let entries = manifest.entries.into_iter().map(|e| (e.key, e)).collect();
        Some(ImageIndex {
            graph,
            entries,
            keys,
            next_key: manifest.next_key,
            watermark: manifest.watermark,
            model: model.to_owned(),
            dimensions,
            dir: Some(dir.to_owned()),
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entry(&self, key: u64) -> Option<&Entry> {
        self.entries.get(&key)
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// Adds an image, or replaces it when the id is already there (a new key: usearch keys are
    /// not reused after removal).
    pub fn upsert(&mut self, mut entry: Entry, vector: &[f32]) -> Result<(), SearchError> {
        self.remove(entry.id)?;
        if self.graph.size() + 1 > self.graph.capacity() {
            let grown = (self.graph.capacity() * 2).max(64);
            self.graph
                .reserve(grown)
                .map_err(|e| usearch_error("growing the index", e))?;
        }
        entry.key = self.next_key;
        self.next_key += 1;
        self.graph
            .add(entry.key, vector)
            .map_err(|e| usearch_error("adding to the index", e))?;
        self.keys.insert(entry.id, entry.key);
        self.entries.insert(entry.key, entry);
        Ok(())
    }

    /// Drops an image (deleted in the store); nothing when it is not there.
    pub fn remove(&mut self, id: Uuid) -> Result<(), SearchError> {
        if let Some(key) = self.keys.remove(&id) {
            self.entries.remove(&key);
            self.graph
                .remove(key)
                .map_err(|e| usearch_error("removing from the index", e))?;
        }
        Ok(())
    }

    /// The `count` nearest images visible to `tenant`, by the HNSW walk: `(key, cosine similarity)`.
    pub fn nearest(&self, query: &[f32], count: usize, tenant: Option<Uuid>) -> Result<Vec<(u64, f32)>, SearchError> {
        if self.entries.is_empty() || count == 0 {
            return Ok(Vec::new());
        }
        let visible = |key: u64| self.entries.get(&key).is_some_and(|e| e.visible_to(tenant));
        let matches = self
            .graph
            .filtered_search(query, count, visible)
            .map_err(|e| usearch_error("searching the index", e))?;
        Ok(matches
            .keys
            .into_iter()
            .zip(matches.distances)
            .map(|(k, d)| (k, 1.0 - d))
            .collect())
    }

    /// The `count` nearest images visible to `tenant` by comparing the query with every stored
    /// vector: the ground truth the HNSW walk approximates.
    pub fn nearest_exact(&self, query: &[f32], count: usize, tenant: Option<Uuid>) -> Vec<(u64, f32)> {
        let mut all: Vec<(u64, f32)> = self
            .entries
            .values()
            .filter(|e| e.visible_to(tenant))
            .filter_map(|e| {
                self.vector(e.key)
                    .map(|v| (e.key, promptsales_embed::cosine(query, &v)))
            })
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(count);
        all
    }

    /// The stored vector of a key.
    pub fn vector(&self, key: u64) -> Option<Vec<f32>> {
        let mut buffer = vec![0.0f32; self.dimensions];
        match self.graph.get(key, &mut buffer) {
            Ok(n) if n > 0 => Some(buffer),
            _ => None,
        }
    }

    /// Writes both files (temporary names, then renamed); nothing for an in-memory index.
    pub fn save(&self) -> Result<(), SearchError> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let io = |what: &str, e: std::io::Error| SearchError::Index(format!("{what} {}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(|e| io("creating", e))?;
        let graph_tmp = dir.join(format!("{GRAPH_FILE}.tmp"));
        let manifest_tmp = dir.join(format!("{MANIFEST_FILE}.tmp"));
        let graph_tmp_str = graph_tmp
            .to_str()
            .ok_or_else(|| SearchError::Index(format!("index path {} is not UTF-8", dir.display())))?;
        self.graph
            .save(graph_tmp_str)
            .map_err(|e| usearch_error("saving the index", e))?;
        let mut entries: Vec<Entry> = self.entries.values().cloned().collect();
        entries.sort_by_key(|e| e.key);
        let manifest = Manifest {
            format: FORMAT,
            model: self.model.clone(),
            dimensions: self.dimensions,
            next_key: self.next_key,
            watermark: self.watermark,
            entries,
        };
        let json = serde_json::to_vec(&manifest).map_err(|e| SearchError::Index(format!("index manifest: {e}")))?;
        std::fs::write(&manifest_tmp, json).map_err(|e| io("writing the manifest in", e))?;
        // Graph first: a crash between the renames leaves a manifest that disagrees with the
        // graph's size (or an old pair), which `open` detects and rebuilds.
        std::fs::rename(&graph_tmp, dir.join(GRAPH_FILE)).map_err(|e| io("renaming the graph in", e))?;
        std::fs::rename(&manifest_tmp, dir.join(MANIFEST_FILE)).map_err(|e| io("renaming the manifest in", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    fn entry(org: Option<Uuid>) -> Entry {
        Entry {
            key: 0,
            id: Uuid::new_v4(),
            organization_id: org,
            hashtags: vec!["coffee".into()],
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn should_filter_by_tenant_replace_and_survive_a_reload() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let (org_a, org_b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut index = ImageIndex::empty(Some(dir.path()), "m", 3).expect("an index");
        let stock = entry(None);
        let mine = entry(Some(org_a));
        let theirs = entry(Some(org_b));
        index.upsert(stock.clone(), &unit(&[1.0, 0.0, 0.0])).expect("added");
        index.upsert(mine.clone(), &unit(&[0.9, 0.1, 0.0])).expect("added");
        index.upsert(theirs.clone(), &unit(&[1.0, 0.01, 0.0])).expect("added");
        let q = unit(&[1.0, 0.0, 0.0]);
        let ids = |hits: Vec<(u64, f32)>, index: &ImageIndex| -> Vec<Uuid> {
            hits.into_iter()
                .map(|(k, _)| index.entry(k).expect("known key").id)
                .collect()
        };
        assert_eq!(
            ids(index.nearest(&q, 10, Some(org_a)).expect("search"), &index),
            vec![stock.id, mine.id]
        );
        assert_eq!(index.nearest(&q, 10, None).expect("search").len(), 3);

        // Replacing moves the image; removing drops it.
        index.upsert(mine.clone(), &unit(&[0.0, 1.0, 0.0])).expect("replaced");
        index.remove(theirs.id).expect("removed");
        assert_eq!(index.len(), 2);
        index.save().expect("saved");

        let reopened = ImageIndex::open(dir.path(), "m", 3).expect("reopened");
        let hits = reopened.nearest(&unit(&[0.0, 1.0, 0.0]), 1, None).expect("search");
        assert_eq!(ids(hits, &reopened), vec![mine.id]);
        assert!(ImageIndex::open(dir.path(), "another-model", 3).is_none());
        assert!(ImageIndex::open(&dir.path().join("absent"), "m", 3).is_none());
    }
}
