//! Generation in parallel with loading. Generators run on rayon (each entity from its own seeded
//! stream, so thread timing never changes the data); one producer thread per table encodes its
//! rows into COPY text in parallel chunks and feeds a bounded channel; one loader task per
//! PostgreSQL store COPYs the tables in order inside its transaction. Producer threads never run
//! on the rayon pool, so a producer blocked on a full channel never starves generation.

use std::{collections::HashMap, sync::Arc, thread::Scope, time::Instant};

use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use promptsales_platform::{
    Backend, Store, StoreUrl,
    bulk::{CopyText, Row},
    crypto::Keyring,
};
use rayon::prelude::*;
use tokio::sync::mpsc::{Sender, channel};

use crate::{
    activity::{self, Facts},
    adsref, campaigns, central, content, customers,
    load::{self, Chunk, TableStat, mssql::MssqlTable, pg::PgTable},
    plans,
    progress::Bars,
    rows::{self, FullRow},
    spec::{Ctx, Profile},
};

/// What to seed.
#[derive(Debug, Clone)]
pub struct Options {
    pub profile: Profile,
    pub seed: u64,
    pub now: DateTime<Utc>,
    /// Empty the seeded tables first instead of refusing a store that has data.
    pub reset: bool,
    /// Draw progress bars (on a terminal).
    pub progress: bool,
}

/// Where the four stores are.
#[derive(Debug, Clone)]
pub struct Targets {
    pub content: StoreUrl,
    pub ads: StoreUrl,
    pub crm: StoreUrl,
    pub sales: StoreUrl,
}

impl Targets {
    pub fn url(&self, store: Store) -> &StoreUrl {
        match store {
            Store::Content => &self.content,
            Store::Ads => &self.ads,
            Store::Crm => &self.crm,
            Store::Sales => &self.sales,
        }
    }
}

/// What a run did.
#[derive(Debug)]
pub struct Report {
    pub profile: Profile,
    pub stats: Vec<TableStat>,
    pub generation: std::time::Duration,
    pub elapsed: std::time::Duration,
}

impl Report {
    pub fn summary(&self) -> String {
        crate::progress::summary(&self.profile.to_string(), &self.stats, self.generation, self.elapsed)
    }
}

/// Rows per COPY chunk handed to a loader.
const CHUNK_ROWS: usize = 8_192;
/// Chunks a producer may run ahead of its loader.
const CHANNEL_DEPTH: usize = 8;

struct TableSpec {
    store: Store,
    table: &'static str,
    columns: &'static [&'static str],
    heavy: bool,
}

fn spec<R: Row>(store: Store, heavy: bool) -> TableSpec {
    TableSpec {
        store,
        table: R::TABLE,
        columns: R::COLUMNS,
        heavy,
    }
}

/// The seeded tables of each store, in load order (parents first).
fn tables() -> Vec<TableSpec> {
    use rows::*;
    let content = content::pg_tables().map(|(table, columns)| TableSpec {
        store: Store::Content,
        table,
        columns,
        heavy: false,
    });
    content
        .chain([
            spec::<Organization>(Store::Sales, false),
            spec::<SubscriptionPlan>(Store::Sales, false),
            spec::<Subscription>(Store::Sales, false),
            spec::<SalesBrand>(Store::Sales, false),
            spec::<SalesProduct>(Store::Sales, false),
            spec::<Contact>(Store::Sales, false),
            spec::<PortalUser>(Store::Sales, false),
            spec::<CampaignPlan>(Store::Sales, false),
            spec::<Approval>(Store::Sales, false),
            spec::<ScheduledTask>(Store::Sales, false),
            spec::<TaskReminder>(Store::Sales, false),
            spec::<Channel>(Store::Ads, false),
            spec::<Market>(Store::Ads, false),
            spec::<AdsBrand>(Store::Ads, false),
            spec::<AdsProduct>(Store::Ads, false),
            spec::<Influencer>(Store::Ads, false),
            spec::<Campaign>(Store::Ads, false),
            spec::<CampaignChannel>(Store::Ads, false),
            spec::<CampaignMarket>(Store::Ads, false),
            spec::<Ad>(Store::Ads, false),
            spec::<AdPlacement>(Store::Ads, false),
            spec::<AdResult>(Store::Ads, true),
            spec::<SentimentSample>(Store::Ads, true),
            spec::<Customer>(Store::Crm, true),
            spec::<CustomerKey>(Store::Crm, true),
            spec::<CampaignCustomer>(Store::Crm, true),
            spec::<Lead>(Store::Crm, true),
            spec::<Interaction>(Store::Crm, true),
            spec::<Sale>(Store::Crm, true),
        ])
        .collect()
}

/// The names of the tables the seeder fills in a store (what `--reset` empties).
pub fn seeded_tables(store: Store) -> Vec<&'static str> {
    tables()
        .into_iter()
        .filter(|t| t.store == store)
        .map(|t| t.table)
        .collect()
}

/// Encodes rows as COPY text.
pub fn encode<R: Row>(rows: &[R]) -> Vec<u8> {
    let mut text = CopyText::with_capacity(rows.len() * 160);
    for row in rows {
        row.write(&mut text);
        text.end_row();
    }
    text.take()
}

/// Encodes rows of the content twin (values cut from the MongoDB documents) as COPY text.
fn encode_values(rows: &[Vec<content::PgValue>]) -> Vec<u8> {
    use content::PgValue;
    use promptsales_platform::bulk::RowSink;
    let mut text = CopyText::with_capacity(rows.len() * 512);
    for row in rows {
        for value in row {
            match value {
                PgValue::Null => text.text(None),
                PgValue::Bool(b) => text.bool(*b),
                PgValue::Int(n) => text.i64(*n),
                PgValue::Decimal(d) => text.decimal(*d),
                PgValue::Text(t) => text.text(t.as_str()),
                PgValue::Bytes(b) => text.bytes(b.as_slice()),
                PgValue::Uuid(u) => text.uuid(*u),
                PgValue::Time(t) => text.time(*t),
                PgValue::Json(j) => text.json(Some(j)),
                PgValue::TextArray(items) => text.text_array(Some(items.as_slice())),
            }
        }
        text.end_row();
    }
    text.take()
}

/// What the content generator needs of each campaign.
fn briefs(ctx: &Ctx, central: &central::Central, campaigns: &[campaigns::Campaign]) -> Vec<content::CampaignBrief> {
    campaigns
        .iter()
        .map(|c| {
            let brand = &central.brands[c.brand];
            content::CampaignBrief {
                id: c.id,
                organization_id: central.orgs[c.org].id,
                name: c.name.clone(),
                brand: brand.name.clone(),
                // Awareness campaigns promote the brand itself.
                product: c
                    .product
                    .map_or_else(|| brand.name.clone(), |p| central.products[p].name.clone()),
                objective: c.objective.to_owned(),
                channel_codes: c
                    .channels
                    .iter()
                    .map(|&(ch, _)| crate::reference::CHANNELS[ch].code.to_owned())
                    .collect(),
                market_codes: c.markets.iter().map(|&m| ctx.markets[m].def.code.to_owned()).collect(),
                starts_at: c.starts_at,
                ends_at: c.ends_at,
            }
        })
        .collect()
}

/// Generates the content store. Integration credentials are sealed like every other secret of
/// the platform (a data key per record, wrapped under the active KEK), from a seeded stream so a
/// reseed writes the same bytes.
fn generate_content(ctx: &Ctx, central: &central::Central, briefs: &[content::CampaignBrief]) -> content::ContentSet {
    let organizations: Vec<uuid::Uuid> = central.orgs.iter().map(|o| o.id).collect();
    let stream = std::sync::Mutex::new(crate::rng::stream(ctx.seed, "content.integrations.credentials", 0));
    let encrypt = |plaintext: &[u8]| {
        let mut rng = stream.lock().expect("the stream is never poisoned");
        let envelope = crate::pii::Envelope::new(ctx.keyring, &mut rng);
        let sealed = envelope.seal(
            &mut rng,
            b"content.integrations.credentials",
            std::str::from_utf8(plaintext).expect("credentials are JSON text"),
        );
        (sealed, envelope.key_id)
    };
    content::generate(ctx.seed, ctx.now, ctx.spec.images, &organizations, briefs, &encrypt)
}

/// Where generated rows go: a PostgreSQL loader's channel, per table.
struct Outputs {
    senders: HashMap<&'static str, (Sender<Chunk>, ProgressBar)>,
}

impl Outputs {
    fn get(&self, table: &'static str) -> Option<(Sender<Chunk>, ProgressBar)> {
        self.senders.get(table).cloned()
    }

    /// Sends a slice of rows (encoded in parallel chunks) on a producer thread of its own.
    fn send_rows<'s, R: Row + 's>(&self, scope: &'s Scope<'s, '_>, rows: &'s [R]) {
        let Some((tx, bar)) = self.get(R::TABLE) else { return };
        bar.set_length(rows.len() as u64);
        scope.spawn(move || {
            for group in rows.chunks(CHUNK_ROWS * 4) {
                let chunks: Vec<(Vec<u8>, u64)> = group
                    .par_chunks(CHUNK_ROWS)
                    .map(|c| (encode(c), c.len() as u64))
                    .collect();
                for (bytes, rows) in chunks {
                    if tx.blocking_send(Chunk::Data { bytes, rows }).is_err() {
                        return; // the loader stopped (it reports why)
                    }
                }
            }
            let _ = tx.blocking_send(Chunk::End);
        });
    }

    /// Sends one table's rows out of every campaign's facts.
    fn send_facts<'s, R: Row + 's>(&self, scope: &'s Scope<'s, '_>, facts: &'s [Facts], get: fn(&Facts) -> &[R]) {
        let Some((tx, bar)) = self.get(R::TABLE) else { return };
        bar.set_length(facts.iter().map(|f| get(f).len() as u64).sum());
        scope.spawn(move || {
            for group in facts.chunks(32) {
                let parts: Vec<(Vec<u8>, u64)> = group
                    .par_iter()
                    .map(|f| (encode(get(f)), get(f).len() as u64))
                    .collect();
                let (mut bytes, mut rows) = (Vec::new(), 0);
                for (b, n) in parts {
                    bytes.extend_from_slice(&b);
                    rows += n;
                    if bytes.len() >= 1 << 20 {
                        if tx
                            .blocking_send(Chunk::Data {
                                bytes: std::mem::take(&mut bytes),
                                rows,
                            })
                            .is_err()
                        {
                            return;
                        }
                        rows = 0;
                    }
                }
                if !bytes.is_empty() && tx.blocking_send(Chunk::Data { bytes, rows }).is_err() {
                    return;
                }
            }
            let _ = tx.blocking_send(Chunk::End);
        });
    }
}

/// Data for stores that load after generation (SQL Server), by table in load order.
type Deferred = HashMap<Store, Vec<Box<dyn MssqlTable>>>;

/// MongoDB documents to load after generation, by collection in load order.
type Documents = Vec<(&'static str, Vec<bson::Document>)>;

fn defer<R: FullRow + Clone + 'static>(
    deferred: &mut Deferred,
    backends: &HashMap<Store, Backend>,
    store: Store,
    rows: Vec<R>,
) {
    if backends[&store] == Backend::Mssql {
        deferred
            .entry(store)
            .or_default()
            .push(Box::new(load::mssql::Rows(rows)));
    }
}

fn flat<R: Clone>(facts: &[Facts], get: fn(&Facts) -> &[R]) -> Vec<R> {
    facts.iter().flat_map(|f| get(f).iter().cloned()).collect()
}

/// Generates the whole dataset and loads it into the four stores.
pub async fn run(options: Options, targets: Targets, keyring: Arc<Keyring>) -> anyhow::Result<Report> {
    let started = Instant::now();
    let mut backends = HashMap::new();
    for store in Store::ALL {
        let url = targets.url(store);
        url.check_for(store)?;
        backends.insert(store, url.backend());
    }
    let bars = Bars::new(options.progress);

    // Channels and loaders for the PostgreSQL stores.
    let mut senders = HashMap::new();
    let mut per_store: HashMap<Store, Vec<PgTable>> = HashMap::new();
    for t in tables() {
        if backends[&t.store] != Backend::Postgres {
            continue;
        }
        let (tx, rx) = channel(CHANNEL_DEPTH);
        let bar = bars.table(t.store.name(), t.table);
        senders.insert(t.table, (tx, bar.clone()));
        // Dropping and rebuilding indexes pays off for hundreds of thousands of rows; for the small
        // profile maintaining them during the load is cheaper than rebuilding them.
        let heavy = t.heavy && options.profile == Profile::Full;
        per_store.entry(t.store).or_default().push(PgTable {
            table: t.table,
            columns: t.columns,
            heavy,
            rows: rx,
            bar,
        });
    }
    if options.profile == Profile::Full
        && let Some(crm) = per_store.get_mut(&Store::Crm)
    {
        // With their keys and foreign keys dropped, the campaign facts (generated first) need
        // not wait for the 500,000 customers, whose PII takes longest to seal.
        crm.sort_by_key(|t| matches!(t.table, rows::Customer::TABLE | rows::CustomerKey::TABLE));
    }
    let mut loaders = tokio::task::JoinSet::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(4);
    let (decide_tx, decide_rx) = tokio::sync::watch::channel(None);
    let loader_count = per_store.len();
    for (store, tables) in per_store {
        let url = targets.url(store).clone();
        let reset = options.reset;
        let gate = load::pg::CommitGate {
            ready: ready_tx.clone(),
            decision: decide_rx.clone(),
        };
        loaders.spawn(async move { load::pg::load(store, &url, tables, reset, gate).await });
    }
    drop(ready_tx);

    let outputs = Outputs { senders };
    let generation_backends = backends.clone();
    let (reset, profile) = (options.reset, options.profile);
    let generator = tokio::task::spawn_blocking(move || generate(&options, &keyring, &outputs, &generation_backends));

    // Wait for everything; the first failure is the one reported (a loader that fails drops its
    // channels, which stops the producers feeding it).
    let mut stats = Vec::new();
    let mut failure: Option<anyhow::Error> = None;
    let mut ready = 0;
    let mut decided = false;
    while !loaders.is_empty() {
        tokio::select! {
            Some(()) = ready_rx.recv(), if !decided => {
                ready += 1;
                if ready == loader_count {
                    decided = true;
                    let _ = decide_tx.send(Some(true));
                }
            }
            Some(done) = loaders.join_next() => {
                let outcome = done.map_err(|e| anyhow::anyhow!("a loader panicked: {e}")).and_then(|r| r.map_err(anyhow::Error::from));
                match outcome {
                    Ok(s) => stats.extend(s),
                    Err(e) => {
                        // The first failure is the one reported; the others are its consequences.
                        failure.get_or_insert(e);
                        decided = true;
                        let _ = decide_tx.send(Some(false));
                    }
                }
            }
        }
    }
    let generated = generator.await;
    if let Some(e) = failure {
        return Err(e);
    }
    let (deferred, documents, generation) = generated.map_err(|e| anyhow::anyhow!("the generator panicked: {e}"))?;
    for (store, tables) in deferred.into_iter().collect::<std::collections::BTreeMap<_, _>>() {
        stats.extend(load::mssql::load(store, targets.url(store), tables, reset).await?);
    }
    if let Some(documents) = documents {
        stats.extend(load::mongo::load(Store::Content, targets.url(Store::Content), documents, reset).await?);
    }
    Ok(Report {
        profile,
        stats,
        generation,
        elapsed: started.elapsed(),
    })
}

fn generate(
    options: &Options,
    keyring: &Keyring,
    outputs: &Outputs,
    backends: &HashMap<Store, Backend>,
) -> (Deferred, Option<Documents>, std::time::Duration) {
    let started = Instant::now();
    let ctx = Ctx::new(options.profile, options.seed, options.now, keyring);
    let central = central::generate(&ctx);
    let layout = customers::Layout::plan(&ctx, &central);
    let campaigns = campaigns::plan(&ctx, &central, &layout);
    let (ads_ref, influencers) = adsref::generate(&ctx, &central);
    let briefs = briefs(&ctx, &central, &campaigns);
    let mut deferred = Deferred::new();
    let mut documents = None;
    let mut generation = std::time::Duration::ZERO;
    // Filled inside the scope, borrowed by its producer threads: declared outside so they outlive it.
    let facts_cell: std::sync::OnceLock<Vec<Facts>> = std::sync::OnceLock::new();
    let planning_cell: std::sync::OnceLock<plans::Planning> = std::sync::OnceLock::new();

    std::thread::scope(|scope| {
        // Reference and central tables: ready at once.
        outputs.send_rows(scope, &central.organizations);
        outputs.send_rows(scope, &central.plans);
        outputs.send_rows(scope, &central.subscriptions);
        outputs.send_rows(scope, &central.sales_brands);
        outputs.send_rows(scope, &central.sales_products);
        outputs.send_rows(scope, &central.contacts);
        outputs.send_rows(scope, &central.users);
        outputs.send_rows(scope, &ads_ref.channels);
        outputs.send_rows(scope, &ads_ref.markets);
        outputs.send_rows(scope, &ads_ref.brands);
        outputs.send_rows(scope, &ads_ref.products);
        outputs.send_rows(scope, &ads_ref.influencers);

        // Content: images drawn and documents built on a thread of their own, then cut into the
        // twin's rows (PostgreSQL) or kept as documents (MongoDB, loaded after generation).
        let content_thread = scope.spawn(|| {
            let set = generate_content(&ctx, &central, &briefs);
            if backends[&Store::Content] == Backend::Mongo {
                return Some(set.documents().into_iter().collect::<Documents>());
            }
            for table in set.pg_rows() {
                let Some((tx, bar)) = outputs.get(table.table) else {
                    continue;
                };
                bar.set_length(table.rows.len() as u64);
                for chunk in table.rows.chunks(256) {
                    let bytes = encode_values(chunk);
                    if tx
                        .blocking_send(Chunk::Data {
                            bytes,
                            rows: chunk.len() as u64,
                        })
                        .is_err()
                    {
                        return None;
                    }
                }
                let _ = tx.blocking_send(Chunk::End);
            }
            None
        });

        // Customers: sealed in parallel blocks, streamed as they come (keys after them: the
        // loader takes customers first).
        let customer_thread = scope.spawn(|| {
            let out_customers = outputs.get(rows::Customer::TABLE);
            let out_keys = outputs.get(rows::CustomerKey::TABLE);
            if let Some((_, bar)) = &out_customers {
                bar.set_length(layout.total as u64);
            }
            if let Some((_, bar)) = &out_keys {
                bar.set_length(layout.total as u64);
            }
            let mut keys_text = Vec::new();
            let mut kept = (Vec::new(), Vec::new());
            let mut alive = true;
            customers::generate(&ctx, &central, &layout, CHUNK_ROWS, |block| {
                if let Some((tx, _)) = &out_customers {
                    let rows = block.customers.len() as u64;
                    alive &= tx
                        .blocking_send(Chunk::Data {
                            bytes: encode(&block.customers),
                            rows,
                        })
                        .is_ok();
                    keys_text.push((encode(&block.keys), rows));
                } else {
                    kept.0.extend(block.customers);
                    kept.1.extend(block.keys);
                }
            });
            if let Some((tx, _)) = &out_customers
                && alive
            {
                let _ = tx.blocking_send(Chunk::End);
            }
            if let Some((tx, _)) = &out_keys {
                for (bytes, rows) in keys_text {
                    if tx.blocking_send(Chunk::Data { bytes, rows }).is_err() {
                        return kept;
                    }
                }
                let _ = tx.blocking_send(Chunk::End);
            }
            kept
        });

        // Campaigns: every campaign's facts in parallel, then one producer per table.
        let facts: Vec<Facts> = campaigns
            .par_iter()
            .map(|c| activity::generate(&ctx, &central, &layout, &influencers, c))
            .collect();
        let mut planning = plans::Planning::default();
        for c in &campaigns {
            plans::generate(&ctx, &central, c, &mut planning);
        }
        generation = started.elapsed();
        let facts: &[Facts] = facts_cell.get_or_init(|| facts);
        let planning: &plans::Planning = planning_cell.get_or_init(|| planning);
        outputs.send_facts(scope, facts, |f| {
            std::slice::from_ref(f.campaign.as_ref().expect("every campaign has its row"))
        });
        outputs.send_facts(scope, facts, |f| &f.channels);
        outputs.send_facts(scope, facts, |f| &f.markets);
        outputs.send_facts(scope, facts, |f| &f.ads);
        outputs.send_facts(scope, facts, |f| &f.placements);
        outputs.send_facts(scope, facts, |f| &f.results);
        outputs.send_facts(scope, facts, |f| &f.sentiment);
        outputs.send_facts(scope, facts, |f| &f.links);
        outputs.send_facts(scope, facts, |f| &f.leads);
        outputs.send_facts(scope, facts, |f| &f.interactions);
        outputs.send_facts(scope, facts, |f| &f.sales);
        outputs.send_rows(scope, &planning.plans);
        outputs.send_rows(scope, &planning.approvals);
        outputs.send_rows(scope, &planning.tasks);
        outputs.send_rows(scope, &planning.reminders);

        let (kept_customers, kept_keys) = customer_thread.join().expect("the customer generator does not panic");
        documents = content_thread.join().expect("the content generator does not panic");
        generation = generation.max(started.elapsed());

        // SQL Server stores load after generation, from memory, parents first.
        let d = &mut deferred;
        defer(d, backends, Store::Ads, ads_ref.channels.clone());
        defer(d, backends, Store::Ads, ads_ref.markets.clone());
        defer(d, backends, Store::Ads, ads_ref.brands.clone());
        defer(d, backends, Store::Ads, ads_ref.products.clone());
        defer(d, backends, Store::Ads, ads_ref.influencers.clone());
        if backends[&Store::Ads] == Backend::Mssql {
            defer(
                d,
                backends,
                Store::Ads,
                flat(facts, |f| {
                    std::slice::from_ref(f.campaign.as_ref().expect("campaign row"))
                }),
            );
            defer(d, backends, Store::Ads, flat(facts, |f| &f.channels));
            defer(d, backends, Store::Ads, flat(facts, |f| &f.markets));
            defer(d, backends, Store::Ads, flat(facts, |f| &f.ads));
            defer(d, backends, Store::Ads, flat(facts, |f| &f.placements));
            defer(d, backends, Store::Ads, flat(facts, |f| &f.results));
            defer(d, backends, Store::Ads, flat(facts, |f| &f.sentiment));
        }
        if backends[&Store::Crm] == Backend::Mssql {
            defer(d, backends, Store::Crm, kept_customers);
            defer(d, backends, Store::Crm, kept_keys);
            defer(d, backends, Store::Crm, flat(facts, |f| &f.links));
            defer(d, backends, Store::Crm, flat(facts, |f| &f.leads));
            defer(d, backends, Store::Crm, flat(facts, |f| &f.interactions));
            defer(d, backends, Store::Crm, flat(facts, |f| &f.sales));
        }
    });
    (deferred, documents, generation)
}
