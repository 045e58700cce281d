//! The GraphQL response the gateway returns, and its errors.

use serde::Serialize;
use serde_json::{Map, Value};

/// One entry of `errors`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GraphqlError {
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub extensions: Map<String, Value>,
}

impl GraphqlError {
    pub fn new(message: impl Into<String>) -> GraphqlError {
        GraphqlError {
            message: message.into(),
            locations: Vec::new(),
            path: None,
            extensions: Map::new(),
        }
    }

    pub fn with_code(mut self, code: &str) -> GraphqlError {
        self.extensions.insert("code".into(), Value::from(code));
        self
    }

    pub fn with_path(mut self, path: Vec<Value>) -> GraphqlError {
        self.path = Some(path);
        self
    }

    pub fn with_subgraph(mut self, subgraph: &str) -> GraphqlError {
        self.extensions.insert("subgraph".into(), Value::from(subgraph));
        self
    }

    /// From an error object a subgraph returned (anything unexpected becomes a plain message).
    /// Its `locations` point into the subgraph's query, not the client's, so they are dropped.
    pub fn from_subgraph(raw: &Value, subgraph: &str) -> GraphqlError {
        let message = raw
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("subgraph error without a message");
        let mut error = GraphqlError::new(message);
        if let Some(Value::Array(path)) = raw.get("path") {
            error.path = Some(path.clone());
        }
        if let Some(Value::Object(ext)) = raw.get("extensions") {
            error.extensions = ext.clone();
        }
        error.with_subgraph(subgraph)
    }
}

/// `{"data": …, "errors": […]}`; `data` is absent when execution never started.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Response {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<GraphqlError>,
}

impl Response {
    pub fn request_error(error: GraphqlError) -> Response {
        Response {
            data: None,
            errors: vec![error],
        }
    }
}
