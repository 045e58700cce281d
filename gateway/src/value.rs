//! Subgraph answers as JSON trees that borrow from the bytes they were parsed from.
//!
//! A warm request spends most of the gateway's own work on subgraph bodies: parsing them,
//! merging them and writing the response. `serde_json::Value` allocates every key and string and
//! hashes every key into an `IndexMap`; [`Val`] borrows strings from the body (only those with
//! escapes are copied) and keeps an object's members in a vector, which for the handful of
//! fields of a GraphQL object is faster to search than to hash. The bodies themselves are kept
//! for the whole execution by [`Bodies`], so a tree merged from several subgraphs borrows from
//! all of them at once.
//!
//! Duplicate keys in one object are kept as sent and a lookup finds the first; GraphQL responses
//! never repeat a key.

use std::{
    borrow::Cow,
    fmt,
    hash::Hasher,
    sync::{
        OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
};

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A JSON value borrowing its strings from a subgraph body.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Val<'a> {
    #[default]
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(Cow<'a, str>),
    List(Vec<Val<'a>>),
    Object(Vec<(Cow<'a, str>, Val<'a>)>),
}

/// A shared null, for fields that are absent.
pub static NULL: Val<'static> = Val::Null;

impl<'a> Val<'a> {
    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Val<'a>> {
        match self {
            Val::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The member `key` of an object, searched from position `hint` on (and then from the
    /// start); `hint` moves past the member found. Reading an object's members in the order they
    /// were written finds each at the first try.
    pub fn get_from(&self, key: &str, hint: &mut usize) -> Option<&Val<'a>> {
        let Val::Object(members) = self else {
            return None;
        };
        let start = (*hint).min(members.len());
        let (before, after) = members.split_at(start);
        let found = after
            .iter()
            .position(|(k, _)| k == key)
            .map(|i| start + i)
            .or_else(|| before.iter().position(|(k, _)| k == key))?;
        *hint = found + 1;
        Some(&members[found].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Val<'a>> {
        match self {
            Val::Object(members) => members.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Takes the member `key` out of an object, leaving null in its place.
    pub fn take(&mut self, key: &str) -> Option<Val<'a>> {
        self.get_mut(key).map(std::mem::take)
    }

    /// The object's `__typename`.
    pub fn typename(&self) -> Option<&str> {
        self.get("__typename").and_then(Val::as_str)
    }

    /// A `serde_json::Value` copy (errors, and the response cache's tag walk).
    pub fn to_json(&self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::I64(n) => Value::from(*n),
            Val::U64(n) => Value::from(*n),
            Val::F64(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
            Val::Str(s) => Value::String(s.to_string()),
            Val::List(items) => Value::Array(items.iter().map(Val::to_json).collect()),
            Val::Object(members) => Value::Object(members.iter().map(|(k, v)| (k.to_string(), v.to_json())).collect()),
        }
    }

    /// Appends the value as JSON text.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Val::Null => out.extend_from_slice(b"null"),
            Val::Bool(true) => out.extend_from_slice(b"true"),
            Val::Bool(false) => out.extend_from_slice(b"false"),
            Val::I64(n) => write_number(out, n),
            Val::U64(n) => write_number(out, n),
            Val::F64(n) => write_number(out, n),
            Val::Str(s) => write_str(out, s),
            Val::List(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write(out);
                }
                out.push(b']');
            }
            Val::Object(members) => {
                out.push(b'{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(out, k);
                    out.push(b':');
                    v.write(out);
                }
                out.push(b'}');
            }
        }
    }

    /// A hash of the value, for finding equal values without comparing each pair. Object keys
    /// are hashed in their order: equal objects built in different key orders only miss sharing.
    pub fn fingerprint(&self) -> u64 {
        let mut hasher = rustc_hash::FxHasher::default();
        self.hash_into(&mut hasher);
        hasher.finish()
    }

    fn hash_into(&self, h: &mut rustc_hash::FxHasher) {
        match self {
            Val::Null => h.write_u8(0),
            Val::Bool(b) => {
                h.write_u8(1);
                h.write_u8(u8::from(*b));
            }
            Val::I64(n) => {
                h.write_u8(2);
                h.write_i64(*n);
            }
            Val::U64(n) => {
                h.write_u8(3);
                h.write_u64(*n);
            }
            Val::F64(n) => {
                h.write_u8(4);
                h.write_u64(n.to_bits());
            }
            Val::Str(s) => {
                h.write_u8(5);
                h.write(s.as_bytes());
                h.write_u8(0xff);
            }
            Val::List(items) => {
                h.write_u8(6);
                h.write_usize(items.len());
                items.iter().for_each(|i| i.hash_into(h));
            }
            Val::Object(members) => {
                h.write_u8(7);
                h.write_usize(members.len());
                for (k, v) in members {
                    h.write(k.as_bytes());
                    h.write_u8(0xff);
                    v.hash_into(h);
                }
            }
        }
    }
}

/// Numbers are written as serde_json writes them (shortest round-trip form; non-finite floats,
/// which JSON cannot carry, as null).
fn write_number<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, n: &T) {
    serde_json::to_writer(out, n).expect("writing a number to a vector cannot fail");
}

/// Appends `s` as a JSON string (serde_json's escaping: `"`, `\\` and control characters).
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(out, s).expect("writing a string to a vector cannot fail");
}

/// Parses a JSON document, borrowing from it (sonic-rs: strict JSON, UTF-8 checked, control
/// characters in strings refused, nesting limited).
pub fn parse(bytes: &[u8]) -> Result<Val<'_>, sonic_rs::Error> {
    sonic_rs::from_slice(bytes)
}

impl<'de> Deserialize<'de> for Val<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Val<'de>, D::Error> {
        deserializer.deserialize_any(ValVisitor)
    }
}

struct ValVisitor;

impl<'de> Visitor<'de> for ValVisitor {
    type Value = Val<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Val<'de>, E> {
        Ok(Val::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Val<'de>, E> {
        Ok(Val::I64(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Val<'de>, E> {
        Ok(Val::U64(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Val<'de>, E> {
        Ok(Val::F64(v))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(v)))
    }

    fn visit_unit<E>(self) -> Result<Val<'de>, E> {
        Ok(Val::Null)
    }

    fn visit_none<E>(self) -> Result<Val<'de>, E> {
        Ok(Val::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Val<'de>, D::Error> {
        Val::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val<'de>, A::Error> {
        // Parsers give no size hint; growing from 4 skips the reallocations of the first pushes.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Val::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val<'de>, A::Error> {
        // Most GraphQL objects have a handful of fields.
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(Key(key)) = map.next_key()? {
            members.push((key, map.next_value()?));
        }
        Ok(Val::Object(members))
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key<'de>, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// The subgraph bodies of one execution, kept until it ends so that the merged tree can borrow
/// from all of them. One slot per fetch of the plan, each filled once: the slots never move, so
/// a body handed out stays where it is while others arrive.
pub struct Bodies {
    slots: Box<[OnceLock<bytes::Bytes>]>,
    next: AtomicUsize,
}

impl Bodies {
    /// Room for `fetches` bodies.
    pub fn new(fetches: usize) -> Bodies {
        Bodies {
            slots: (0..fetches).map(|_| OnceLock::new()).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// The bytes of every body kept so far (the response written from them is about as long).
    pub fn kept_bytes(&self) -> usize {
        self.slots.iter().filter_map(OnceLock::get).map(bytes::Bytes::len).sum()
    }

    /// Keeps `body` for the rest of the execution; `None` when every slot is taken (more fetches
    /// ran than the plan has).
    pub fn keep(&self, body: bytes::Bytes) -> Option<&[u8]> {
        let slot = self.slots.get(self.next.fetch_add(1, Ordering::Relaxed))?;
        // A slot index is handed out once, so the slot is empty.
        let _ = slot.set(body);
        slot.get().map(|b| b.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_without_escapes_are_borrowed_and_the_rest_copied() {
        let body = br#"{"a":"plain","b":"with \"quotes\"","c\u0041":[1,-2,2.5,true,null]}"#;
        let v = parse(body).expect("test JSON");
        assert!(matches!(v.get("a"), Some(Val::Str(Cow::Borrowed("plain")))));
        assert!(matches!(v.get("b"), Some(Val::Str(Cow::Owned(s))) if s == "with \"quotes\""));
        assert_eq!(
            v.get("cA"),
            Some(&Val::List(vec![
                Val::U64(1),
                Val::I64(-2),
                Val::F64(2.5),
                Val::Bool(true),
                Val::Null
            ]))
        );
    }

    #[test]
    fn writes_what_serde_json_reads_back_unchanged() {
        let text = r#"{"s":"tab\there \u0001 \\ \"q\" é 😀","n":[0,-7,18446744073709551615,1.5e300,0.1],"o":{"x":null,"y":false}}"#;
        let v = parse(text.as_bytes()).expect("test JSON");
        let mut out = Vec::new();
        v.write(&mut out);
        let expected: Value = serde_json::from_str(text).expect("test JSON");
        assert_eq!(serde_json::from_slice::<Value>(&out).expect("test JSON"), expected);
        assert_eq!(v.to_json(), expected);
    }

    #[test]
    fn finds_members_from_a_hint_in_any_order() {
        let v = parse(br#"{"a":1,"b":2,"c":3}"#).expect("test JSON");
        let mut hint = 0;
        let order = ["a", "b", "c", "a", "c", "b", "missing", "b"];
        let found: Vec<Option<&Val>> = order.iter().map(|k| v.get_from(k, &mut hint)).collect();
        let expected: Vec<Option<&Val>> = order.iter().map(|k| v.get(k)).collect();
        assert_eq!(found, expected);
        assert_eq!(Val::Null.get_from("a", &mut hint), None);
    }

    #[test]
    fn refuses_what_is_not_json() {
        for bad in [
            &b"{\"a\":1"[..],
            b"{\"a\":\"\x01\"}",
            b"{\"a\":\"\xff\"}",
            b"[1,]",
            b"{'a':1}",
            b"",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn equal_values_have_equal_fingerprints_and_different_ones_differ() {
        let a: Val = serde_json::from_str(r#"{"__typename":"Campaign","id":"1"}"#).expect("test JSON");
        let b: Val = serde_json::from_str(r#"{"__typename":"Campaign","id":"1"}"#).expect("test JSON");
        let c: Val = serde_json::from_str(r#"{"__typename":"Campaign","id":"2"}"#).expect("test JSON");
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
    }

    #[test]
    fn bodies_stay_put_and_refuse_more_than_their_slots() {
        let bodies = Bodies::new(2);
        let first = bodies.keep(bytes::Bytes::from_static(b"one")).expect("a free slot");
        let second = bodies.keep(bytes::Bytes::from_static(b"two")).expect("a free slot");
        assert_eq!((first, second), (&b"one"[..], &b"two"[..]));
        assert!(bodies.keep(bytes::Bytes::from_static(b"three")).is_none());
    }
}
