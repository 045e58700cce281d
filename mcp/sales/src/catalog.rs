//! The live catalogue the parser recognises names against: campaigns, brands, channels and
//! markets visible to the caller, fetched from the gateway with the caller's token (so a tenant
//! is never offered another tenant's campaign as a candidate).

use promptsales_mcp_kit::{Caller, GatewayClient, GatewayError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A campaign as the parser knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignRef {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub brand_id: Option<String>,
}

/// A brand, channel or market: an id (or code) and its name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Named {
    /// Brand id, channel code or market code.
    pub key: String,
    pub name: String,
}

/// A market with its country.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketRef {
    pub code: String,
    pub name: String,
    pub country: String,
}

/// What the caller can see.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalogue {
    pub campaigns: Vec<CampaignRef>,
    pub brands: Vec<Named>,
    pub channels: Vec<Named>,
    pub markets: Vec<MarketRef>,
}

/// One page of campaigns with what names them, plus the reference lists on the first page.
pub const CATALOGUE_QUERY: &str = "query McpCatalogue($after: String, $first: Int!, $withRefs: Boolean!) {
  campaigns(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id name brand { id name } }
  }
  channels @include(if: $withRefs) { code name }
  markets @include(if: $withRefs) { code name countryCode }
}";

const PAGE: u32 = 100;
/// Most campaigns read into a catalogue (pages of 100).
const MAX_CAMPAIGNS: usize = 5_000;

impl Catalogue {
    /// Reads the catalogue as `caller`. Brand names need `sales:read`: without it campaigns are
    /// still listed, brands are not.
    pub async fn fetch(gateway: &GatewayClient, caller: &Caller) -> Result<Catalogue, GatewayError> {
        let mut catalogue = Catalogue::default();
        let mut after: Option<String> = None;
        loop {
            let first_page = after.is_none();
            let vars = json!({ "after": after, "first": PAGE, "withRefs": first_page });
            let response = gateway.execute(caller, CATALOGUE_QUERY, vars).await?;
            let data = &response.data;
            if first_page {
                catalogue.channels = list(&data["channels"], |v| {
                    Some(Named {
                        key: v["code"].as_str()?.to_owned(),
                        name: v["name"].as_str()?.to_owned(),
                    })
                });
                catalogue.markets = list(&data["markets"], |v| {
                    Some(MarketRef {
                        code: v["code"].as_str()?.to_owned(),
                        name: v["name"].as_str()?.to_owned(),
                        country: v["countryCode"].as_str()?.to_owned(),
                    })
                });
            }
            let page = &data["campaigns"];
            for node in page["nodes"].as_array().into_iter().flatten() {
                let (Some(id), Some(name)) = (node["id"].as_str(), node["name"].as_str()) else {
                    continue;
                };
                let brand_id = node["brand"]["id"].as_str().map(str::to_owned);
                if let (Some(bid), Some(bname)) = (&brand_id, node["brand"]["name"].as_str())
                    && !catalogue.brands.iter().any(|b| &b.key == bid)
                {
                    catalogue.brands.push(Named {
                        key: bid.clone(),
                        name: bname.to_owned(),
                    });
                }
                catalogue.campaigns.push(CampaignRef {
                    id: id.to_owned(),
                    name: name.to_owned(),
                    brand_id,
                });
            }
            let next = page["pageInfo"]["hasNextPage"].as_bool().unwrap_or(false);
            after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
            if !next || after.is_none() || catalogue.campaigns.len() >= MAX_CAMPAIGNS {
                break;
            }
        }
        Ok(catalogue)
    }

    pub fn campaign(&self, id: &str) -> Option<&CampaignRef> {
        self.campaigns.iter().find(|c| c.id == id)
    }

    pub fn brand_name(&self, id: &str) -> Option<&str> {
        self.brands.iter().find(|b| b.key == id).map(|b| b.name.as_str())
    }

    /// Codes of the markets in `country`.
    pub fn markets_in(&self, country: &str) -> Vec<&str> {
        self.markets
            .iter()
            .filter(|m| m.country.eq_ignore_ascii_case(country))
            .map(|m| m.code.as_str())
            .collect()
    }
}

fn list<T>(value: &Value, item: impl Fn(&Value) -> Option<T>) -> Vec<T> {
    value.as_array().into_iter().flatten().filter_map(item).collect()
}
