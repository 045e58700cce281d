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

/// The `data` of a response: a JSON tree (introspection), or JSON text the gateway wrote
/// while shaping the subgraphs' answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    Json(Value),
    Text(Vec<u8>),
}

impl Data {
    pub fn is_null(&self) -> bool {
        match self {
            Data::Json(v) => v.is_null(),
            Data::Text(t) => t.as_slice() == b"null",
        }
    }

    /// As a JSON tree (the response cache's tag walk; tests).
    pub fn to_value(&self) -> Value {
        match self {
            Data::Json(v) => v.clone(),
            // The shaper writes valid JSON; anything else would be a bug, shown as null.
            Data::Text(t) => serde_json::from_slice(t).unwrap_or(Value::Null),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Data::Json(v) => serde_json::to_writer(out, v).expect("writing JSON to a vector cannot fail"),
            Data::Text(t) => out.extend_from_slice(t),
        }
    }
}

impl From<Value> for Data {
    fn from(v: Value) -> Data {
        Data::Json(v)
    }
}

/// `{"data": …, "errors": […]}`; `data` is absent when execution never started. Written by
/// [`Response::to_bytes`].
#[derive(Debug, Clone, Default)]
pub struct Response {
    pub data: Option<Data>,
    pub errors: Vec<GraphqlError>,
}

impl Response {
    pub fn request_error(error: GraphqlError) -> Response {
        Response {
            data: None,
            errors: vec![error],
        }
    }

    /// The response as JSON text: `data` copied as the shaper wrote it, not parsed again.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(match &self.data {
            Some(Data::Text(t)) => t.len() + 16,
            _ => 256,
        });
        out.push(b'{');
        if let Some(data) = &self.data {
            out.extend_from_slice(b"\"data\":");
            data.write(&mut out);
        }
        if !self.errors.is_empty() {
            if self.data.is_some() {
                out.push(b',');
            }
            out.extend_from_slice(b"\"errors\":");
            serde_json::to_writer(&mut out, &self.errors).expect("writing JSON to a vector cannot fail");
        }
        out.push(b'}');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_data_as_given_and_errors_only_when_there_are_some() {
        use serde_json::json;
        let error = GraphqlError::new("boom")
            .with_code("X")
            .with_path(vec![Value::from("a"), Value::from(0)]);
        let error_json = json!({ "message": "boom", "path": ["a", 0], "extensions": { "code": "X" } });
        let cases = [
            (Response::default(), json!({})),
            (
                Response::request_error(error.clone()),
                json!({ "errors": [error_json] }),
            ),
            (
                Response {
                    data: Some(Data::Text(br#"{"a":[{"b":"c\"d"}]}"#.to_vec())),
                    errors: vec![error],
                },
                json!({ "data": { "a": [{ "b": "c\"d" }] }, "errors": [error_json] }),
            ),
            (
                Response {
                    data: Some(Data::Json(json!({ "x": 1 }))),
                    errors: Vec::new(),
                },
                json!({ "data": { "x": 1 } }),
            ),
            (
                Response {
                    data: Some(Data::Text(b"null".to_vec())),
                    errors: Vec::new(),
                },
                json!({ "data": null }),
            ),
        ];
        for (response, expected) in cases {
            let written: Value = serde_json::from_slice(&response.to_bytes()).expect("the response is JSON");
            assert_eq!(written, expected);
        }
    }
}
