use std::path::PathBuf;

use promptsales_platform::{Store, StoreUrl};

/// Settings of the content subgraph (flags or environment).
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "promptsales-content", about = "PromptContent subgraph")]
pub struct Config {
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 4001)]
    pub port: u16,
    /// The PromptContent store: `mongodb://…` (prescribed) or `postgres://…` (jsonb twin).
    #[arg(long = "content-url", env = "PROMPTSALES_CONTENT_URL", value_name = "URL")]
    pub content_url: Option<StoreUrl>,
    /// Base URL under which clients reach this subgraph's `/images/{id}` route (through the
    /// gateway), e.g. `https://api.example.com/content`; without it `Image.url` is the relative
    /// path `/images/{id}`.
    #[arg(long = "public-url", env = "PROMPTSALES_CONTENT_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Serve a GraphiQL page at /graphiql that signs its own claims (local debugging only).
    #[arg(long, env = "PROMPTSALES_DEV_GRAPHIQL", default_value_t = false)]
    pub dev_graphiql: bool,
    /// Folder of the embedding model (`config.json`, `tokenizer.json`, `model.safetensors`);
    /// without it `.tools/models/all-MiniLM-L6-v2` under the repository (scripts/dev-services.sh
    /// puts it there).
    #[arg(long = "model-dir", env = "PROMPTSALES_EMBED_MODEL_DIR", value_name = "DIR")]
    pub model_dir: Option<PathBuf>,
    /// Folder the image search index is saved in (rebuilt there when missing or stale); without
    /// it the index lives in memory and is rebuilt at every start.
    #[arg(long = "index-dir", env = "PROMPTSALES_CONTENT_INDEX_DIR", value_name = "DIR")]
    pub index_dir: Option<PathBuf>,
    /// Cache query embeddings in Redis (`PROMPTSALES_REDIS_URL`, keys `ps:emb:v1:…`).
    #[arg(long = "embedding-cache", env = "PROMPTSALES_EMBEDDING_CACHE", default_value_t = true, action = clap::ArgAction::Set)]
    pub embedding_cache: bool,
}

impl Config {
    pub fn store_url(&self) -> StoreUrl {
        self.content_url
            .clone()
            .unwrap_or_else(|| StoreUrl::local_default(Store::Content))
    }
}
