//! The gateway as an OAuth2 resource server, through its HTTP interface: bearer JWTs checked
//! against a JWKS served on port 0 (RSA, P-256 and Ed25519 keys made per test), the attacks that
//! must fail, key rotation and an identity provider that starts late; then `@requiresScopes` on
//! the fixture supergraph and the claims the subgraphs receive.

mod fixtures;

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};

use axum::{
    Json, Router,
    body::Body,
    extract::State,
    http::{Request, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::SigningKey;
use fixtures::Stack;
use insta::assert_json_snapshot;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::{elliptic_curve::sec1::ToEncodedPoint, pkcs8::EncodePrivateKey};
use promptsales_gateway::{
    auth::{AuthOptions, Authenticator},
    config::HttpOptions,
    server,
};
use promptsales_platform::{
    claims::ClaimsKey,
    redis::{KeySpace, Redis, RedisOptions},
};
use rsa::{
    RsaPrivateKey,
    pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey},
    traits::PublicKeyParts,
};
use serde_json::{Value, json};
use uuid::Uuid;

const ISSUER: &str = "https://id.promptsales.test/";
const AUDIENCE: &str = "promptsales-api";

/// A signing key and the JWK that publishes its public half.
struct TestKey {
    alg: Algorithm,
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
    /// What an attacker knows: the public key as PEM (RSA only).
    public_pem: Option<String>,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn rsa_key(kid: &str) -> TestKey {
    let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("an RSA key");
    let der = private.to_pkcs1_der().expect("PKCS#1");
    let public = private.to_public_key();
    TestKey {
        alg: Algorithm::RS256,
        kid: kid.to_owned(),
        encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        jwk: json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": b64(&public.n().to_bytes_be()), "e": b64(&public.e().to_bytes_be()),
        }),
        public_pem: Some(public.to_pkcs1_pem(rsa::pkcs1::LineEnding::LF).expect("PEM")),
    }
}

fn ec_key(kid: &str) -> TestKey {
    let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    let der = secret.to_pkcs8_der().expect("PKCS#8");
    let point = secret.public_key().to_encoded_point(false);
    TestKey {
        alg: Algorithm::ES256,
        kid: kid.to_owned(),
        encoding: EncodingKey::from_ec_der(der.as_bytes()),
        jwk: json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
            "x": b64(point.x().expect("x")), "y": b64(point.y().expect("y")),
        }),
        public_pem: None,
    }
}

fn ed_key(kid: &str) -> TestKey {
    let seed: [u8; 32] = rand::random();
    let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
    // PKCS#8 v1 for Ed25519 (RFC 8410): a fixed prefix, then the 32-byte seed.
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ];
    der.extend_from_slice(&seed);
    TestKey {
        alg: Algorithm::EdDSA,
        kid: kid.to_owned(),
        encoding: EncodingKey::from_ed_der(&der),
        jwk: json!({ "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": kid, "x": b64(&public) }),
        public_pem: None,
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// Valid claims for `scope`; tests change what they attack.
fn claims(scope: &str) -> Value {
    json!({ "iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "exp": now() + 300, "iat": now(), "scope": scope })
}

/// An access token as RFC 9068 types it (`typ: at+jwt`).
fn sign(key: &TestKey, claims: &Value) -> String {
    sign_typed(key, claims, Some("at+jwt"))
}

fn sign_typed(key: &TestKey, claims: &Value, typ: Option<&str>) -> String {
    let mut header = Header::new(key.alg);
    header.kid = Some(key.kid.clone());
    header.typ = typ.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key.encoding).expect("signs")
}

/// A JWKS endpoint that can be changed, taken down and counted.
#[derive(Clone)]
struct Jwks {
    keys: Arc<Mutex<Vec<Value>>>,
    up: Arc<AtomicBool>,
    hits: Arc<AtomicUsize>,
    addr: SocketAddr,
}

impl Jwks {
    async fn serve(keys: &[&TestKey]) -> Jwks {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let jwks = Jwks {
            keys: Arc::new(Mutex::new(keys.iter().map(|k| k.jwk.clone()).collect())),
            up: Arc::new(AtomicBool::new(true)),
            hits: Arc::new(AtomicUsize::new(0)),
            addr: listener.local_addr().expect("addr"),
        };
        async fn handle(State(jwks): State<Jwks>) -> Response {
            jwks.hits.fetch_add(1, Ordering::SeqCst);
            if !jwks.up.load(Ordering::SeqCst) {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            let keys = jwks.keys.lock().expect("lock").clone();
            Json(json!({ "keys": keys })).into_response()
        }
        let app = Router::new().route("/jwks", get(handle)).with_state(jwks.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        jwks
    }

    fn url(&self) -> String {
        format!("http://{}/jwks", self.addr)
    }

    fn publish(&self, key: &TestKey) {
        self.keys.lock().expect("lock").push(key.jwk.clone());
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// The auth section for one issuer at `jwks`, plus `extra` YAML.
fn auth_options(jwks: &Jwks, extra: &str) -> AuthOptions {
    let yaml = format!(
        "issuers:\n  - issuer: {ISSUER}\n    audiences: [other-api, {AUDIENCE}]\n    jwks_url: {}\n{extra}",
        jwks.url()
    );
    let options: AuthOptions = serde_yaml_ng::from_str(&yaml).expect("auth yaml");
    options.validate().expect("valid auth options");
    options
}

/// The fixture stack behind a router that validates tokens.
async fn stack_with_auth(options: AuthOptions, http: HttpOptions) -> Stack {
    let mut stack = Stack::start().await;
    let auth = Authenticator::new(options).expect("authenticator");
    stack.router = server::router_with_auth(stack.gateway.clone(), stack.key.clone(), http, Some(Arc::new(auth)));
    stack
}

fn request(query: &str, authorization: Option<&str>) -> Request<Body> {
    let mut builder = Request::post("/graphql").header("content-type", "application/json");
    if let Some(value) = authorization {
        builder = builder.header("authorization", value);
    }
    builder
        .body(Body::from(json!({ "query": query }).to_string()))
        .expect("request")
}

const ME: &str = "{ me { username } }";

async fn query_as(stack: &Stack, token: &str, query: &str) -> Value {
    let (status, _, body) = stack.send(request(query, Some(&format!("Bearer {token}")))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Asserts a 401 with the RFC 6750 challenge; returns the error description.
async fn refused(stack: &Stack, authorization: Option<&str>) -> String {
    let (status, headers, body) = stack.send(request(ME, authorization)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let challenge = headers["www-authenticate"].to_str().expect("ascii").to_owned();
    assert!(challenge.starts_with(r#"Bearer realm="promptsales""#), "{challenge}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
    assert!(body.get("data").is_none(), "{body}");
    if let Some(value) = authorization {
        let token = value.rsplit(' ').next().unwrap_or_default();
        assert!(!body.to_string().contains(token), "the token is echoed: {body}");
        assert!(!challenge.contains(token), "the token is echoed: {challenge}");
        assert!(challenge.contains(r#"error="invalid_token""#), "{challenge}");
    }
    challenge
}

#[tokio::test]
async fn should_accept_valid_rs256_es256_and_eddsa_tokens() {
    let (rsa, ec, ed) = (rsa_key("rsa-1"), ec_key("ec-1"), ed_key("ed-1"));
    let jwks = Jwks::serve(&[&rsa, &ec, &ed]).await;
    let stack = stack_with_auth(auth_options(&jwks, ""), HttpOptions::default()).await;
    for key in [&rsa, &ec, &ed] {
        let body = query_as(&stack, &sign(key, &claims("")), ME).await;
        assert_eq!(
            body,
            json!({ "data": { "me": { "username": "ada" } } }),
            "{:?}",
            key.alg
        );
    }
    // One fetch served all three.
    assert_eq!(jwks.hits(), 1);
}

#[tokio::test]
async fn should_refuse_forged_expired_and_misdirected_tokens_with_401() {
    let rsa = rsa_key("rsa-1");
    let ed = ed_key("ed-1");
    let stranger = rsa_key("rsa-1");
    let jwks = Jwks::serve(&[&rsa, &ed]).await;
    let options = auth_options(&jwks, "leeway_secs: 30\n");
    let stack = stack_with_auth(options, HttpOptions::default()).await;
    let valid = sign(&rsa, &claims("admin"));
    let with = |change: Value| {
        let mut c = claims("admin");
        for (k, v) in change.as_object().expect("object") {
            if v.is_null() {
                c.as_object_mut().expect("object").remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        sign(&rsa, &c)
    };
    let header = |h: Value| b64(h.to_string().as_bytes());
    let payload = b64(claims("admin").to_string().as_bytes());
    let tampered = {
        let parts: Vec<&str> = valid.split('.').collect();
        let mut c = claims("admin");
        c["sub"] = json!("someone-else");
        format!("{}.{}.{}", parts[0], b64(c.to_string().as_bytes()), parts[2])
    };
    let hmac_confusion = {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some("rsa-1".into());
        let secret = rsa.public_pem.as_deref().expect("pem");
        jsonwebtoken::encode(&h, &claims("admin"), &EncodingKey::from_secret(secret.as_bytes())).expect("signs")
    };
    let wrong_family = {
        // An EdDSA signature presented under the RSA key's kid.
        let mut h = Header::new(Algorithm::EdDSA);
        h.kid = Some("rsa-1".into());
        jsonwebtoken::encode(&h, &claims("admin"), &ed.encoding).expect("signs")
    };
    let oversized = with(json!({ "padding": "x".repeat(9 * 1024) }));
    let attacks: Vec<(&str, String, &str)> = vec![
        (
            "alg none",
            format!(
                "{}.{payload}.",
                header(json!({ "alg": "none", "typ": "JWT", "kid": "rsa-1" }))
            ),
            "the token is malformed",
        ),
        (
            "HS256 with the RSA public key as secret",
            hmac_confusion,
            "the token's algorithm is not accepted",
        ),
        (
            "algorithm of another key family",
            wrong_family,
            "the token's algorithm is not accepted",
        ),
        ("expired", with(json!({ "exp": now() - 3600 })), "the token has expired"),
        (
            "expired beyond the leeway",
            with(json!({ "exp": now() - 45 })),
            "the token has expired",
        ),
        (
            "not yet valid",
            with(json!({ "nbf": now() + 3600 })),
            "the token is not valid yet",
        ),
        (
            "without exp",
            with(json!({ "exp": null })),
            "the token lacks the exp claim",
        ),
        (
            "wrong issuer",
            with(json!({ "iss": "https://evil.test/" })),
            "the token's issuer is not trusted",
        ),
        (
            "without issuer",
            with(json!({ "iss": null })),
            "the token lacks the iss claim",
        ),
        (
            "wrong audience",
            with(json!({ "aud": "someone-elses-api" })),
            "the token is not meant for this API",
        ),
        (
            "without subject",
            with(json!({ "sub": null })),
            "the token lacks the sub claim",
        ),
        (
            "unknown kid",
            sign(&rsa_key("rsa-404"), &claims("admin")),
            "the token's signing key is unknown",
        ),
        (
            "known kid, other key",
            sign(&stranger, &claims("admin")),
            "the token's signature is invalid",
        ),
        ("tampered payload", tampered, "the token's signature is invalid"),
        (
            "bad organization",
            with(json!({ "org": "acme" })),
            "the token's org claim is invalid",
        ),
        (
            "an ID token (typ JWT) of the trusted issuer",
            sign_typed(&rsa, &claims("admin"), Some("JWT")),
            "the token is not an access token",
        ),
        (
            "an untyped token",
            sign_typed(&rsa, &claims("admin"), None),
            "the token is not an access token",
        ),
        ("oversized", oversized, "the token is too large"),
        ("garbage", "garbage".to_owned(), "the token is malformed"),
        ("two parts", "a.b".to_owned(), "the token is malformed"),
    ];
    for (attack, token, reason) in &attacks {
        let challenge = refused(&stack, Some(&format!("Bearer {token}"))).await;
        assert!(
            challenge.ends_with(&format!(r#"error_description="{reason}""#)),
            "{attack}: {challenge}"
        );
    }
    // Not a bearer token at all, and no token.
    refused(&stack, Some("Basic dXNlcjpwYXNz")).await;
    let challenge = refused(&stack, None).await;
    assert_eq!(challenge, r#"Bearer realm="promptsales""#);
    // The refusals say why, briefly.
    let (_, headers, body) = stack
        .send(request(
            ME,
            Some(&format!("Bearer {}", with(json!({ "exp": now() - 3600 })))),
        ))
        .await;
    assert_eq!(
        headers["www-authenticate"],
        r#"Bearer realm="promptsales", error="invalid_token", error_description="the token has expired""#
    );
    assert_json_snapshot!(body, @r#"
    {
      "errors": [
        {
          "message": "the token has expired",
          "extensions": {
            "code": "UNAUTHENTICATED"
          }
        }
      ]
    }
    "#);
    // Within the leeway, and the valid token itself, pass.
    query_as(&stack, &with(json!({ "exp": now() - 10 })), ME).await;
    query_as(&stack, &valid, ME).await;
}

#[tokio::test]
async fn should_accept_jwt_typed_tokens_only_from_an_issuer_that_allows_them() {
    let key = ec_key("ec-1");
    let jwks = Jwks::serve(&[&key]).await;
    let stack = stack_with_auth(
        auth_options(&jwks, "    accept_jwt_typ: true\n"),
        HttpOptions::default(),
    )
    .await;
    for typ in [Some("JWT"), None, Some("at+jwt"), Some("application/at+jwt")] {
        let body = query_as(&stack, &sign_typed(&key, &claims(""), typ), ME).await;
        assert_eq!(body, json!({ "data": { "me": { "username": "ada" } } }), "{typ:?}");
    }
    // Another type is still not an access token.
    let challenge = refused(
        &stack,
        Some(&format!("Bearer {}", sign_typed(&key, &claims(""), Some("logout+jwt")))),
    )
    .await;
    assert!(challenge.contains("not an access token"), "{challenge}");
}

#[tokio::test]
async fn should_pick_up_a_rotated_key_by_refetching_on_an_unknown_kid() {
    let (old, new) = (ec_key("2026-01"), rsa_key("2026-02"));
    let jwks = Jwks::serve(&[&old]).await;
    let stack = stack_with_auth(
        auth_options(&jwks, "jwks_min_refresh_secs: 0\n"),
        HttpOptions::default(),
    )
    .await;
    query_as(&stack, &sign(&old, &claims("")), ME).await;
    assert_eq!(jwks.hits(), 1);
    jwks.publish(&new);
    query_as(&stack, &sign(&new, &claims("")), ME).await;
    assert_eq!(jwks.hits(), 2);
    query_as(&stack, &sign(&old, &claims("")), ME).await;
    assert_eq!(jwks.hits(), 2, "known keys come from the cache");
}

#[tokio::test]
async fn should_refetch_the_jwks_at_most_once_per_interval_for_unknown_kids() {
    let key = ed_key("ed-1");
    let jwks = Jwks::serve(&[&key]).await;
    let stack = stack_with_auth(auth_options(&jwks, ""), HttpOptions::default()).await;
    query_as(&stack, &sign(&key, &claims("")), ME).await;
    for i in 0..5 {
        let token = sign(&ed_key(&format!("made-up-{i}")), &claims(""));
        refused(&stack, Some(&format!("Bearer {token}"))).await;
    }
    assert_eq!(
        jwks.hits(),
        1,
        "made-up kids within 30 s of the last fetch fetch nothing"
    );
}

#[tokio::test]
async fn should_start_while_the_jwks_is_down_and_accept_tokens_once_it_is_up() {
    let key = rsa_key("rsa-1");
    let jwks = Jwks::serve(&[&key]).await;
    jwks.up.store(false, Ordering::SeqCst);
    let auth = Authenticator::new(auth_options(&jwks, "jwks_min_refresh_secs: 0\n")).expect("authenticator");
    // What main does at startup: it logs the failure and goes on.
    auth.prefetch().await;
    let mut stack = Stack::start().await;
    stack.router = server::router_with_auth(
        stack.gateway.clone(),
        stack.key.clone(),
        HttpOptions::default(),
        Some(Arc::new(auth)),
    );
    let token = sign(&key, &claims(""));
    let challenge = refused(&stack, Some(&format!("Bearer {token}"))).await;
    assert!(challenge.contains("signing key is unknown"), "{challenge}");
    jwks.up.store(true, Ordering::SeqCst);
    query_as(&stack, &token, ME).await;
}

/// A client of the local Redis under a prefix of this test's own.
fn test_redis() -> Redis {
    Redis::new(&RedisOptions {
        prefix: format!("ps:test-{}:", Uuid::new_v4().simple()),
        timeout_ms: 2000,
        ..RedisOptions::default()
    })
    .expect("redis client")
}

/// The fixture stack behind a router whose authenticator shares keys through `redis`.
async fn stack_sharing_keys(options: AuthOptions, redis: &Redis) -> Stack {
    started_sharing_keys(options, redis, false).await
}

/// The claims key of the gateways of one fleet in these tests: the shared copies are
/// authenticated with a key derived from it.
fn fleet_key() -> ClaimsKey {
    ClaimsKey::new(b"the claims key of this test fleet").expect("32 bytes")
}

/// [`stack_sharing_keys`]; with `prefetch`, the keys are loaded first, as the binary does at start.
async fn started_sharing_keys(options: AuthOptions, redis: &Redis, prefetch: bool) -> Stack {
    started_sharing_keys_as(options, redis, prefetch, &fleet_key()).await
}

async fn started_sharing_keys_as(options: AuthOptions, redis: &Redis, prefetch: bool, fleet: &ClaimsKey) -> Stack {
    let mut stack = Stack::start().await;
    let auth = Authenticator::new(options)
        .expect("authenticator")
        .with_shared_keys(redis, fleet);
    if prefetch {
        auth.prefetch().await;
    }
    stack.router = server::router_with_auth(
        stack.gateway.clone(),
        stack.key.clone(),
        HttpOptions::default(),
        Some(Arc::new(auth)),
    );
    stack
}

#[tokio::test]
async fn should_validate_with_keys_another_gateway_fetched_while_the_identity_provider_is_down() {
    let key = ec_key("ec-1");
    let jwks = Jwks::serve(&[&key]).await;
    let redis = test_redis();
    let token = sign(&key, &claims(""));
    let a = stack_sharing_keys(auth_options(&jwks, ""), &redis).await;
    query_as(&a, &token, ME).await;
    assert_eq!(jwks.hits(), 1);
    let shared = redis.keys().key(KeySpace::Jwks, &[ISSUER]);
    let ttl: i64 = redis
        .query("pttl", redis::cmd("PTTL").arg(&shared))
        .await
        .expect("pttl");
    assert!(ttl > 590_000 && ttl <= 600_000, "kept for the cache time: {ttl} ms");
    jwks.up.store(false, Ordering::SeqCst);
    let b = stack_sharing_keys(auth_options(&jwks, ""), &redis).await;
    query_as(&b, &token, ME).await;
    assert_eq!(jwks.hits(), 1, "gateway B asked Redis, not the identity provider");
    // A gateway without the shared copy cannot, which is what the copy is for.
    let alone = stack_with_auth(auth_options(&jwks, ""), HttpOptions::default()).await;
    refused(&alone, Some(&format!("Bearer {token}"))).await;
    let _: () = redis.query("del", redis::cmd("DEL").arg(&shared)).await.expect("del");
}

#[tokio::test]
async fn should_fetch_a_key_missing_from_the_shared_copy_and_share_the_new_document() {
    let (old, new) = (rsa_key("2026-01"), ed_key("2026-02"));
    let jwks = Jwks::serve(&[&old]).await;
    let redis = test_redis();
    let options = || auth_options(&jwks, "jwks_min_refresh_secs: 0\n");
    let a = stack_sharing_keys(options(), &redis).await;
    query_as(&a, &sign(&old, &claims("")), ME).await;
    jwks.publish(&new);
    // Gateway B starts, finds the old document in Redis without the rotated key, asks the
    // endpoint once and shares what it got; gateway A then finds the new key in Redis.
    let b = stack_sharing_keys(options(), &redis).await;
    query_as(&b, &sign(&new, &claims("")), ME).await;
    assert_eq!(jwks.hits(), 2);
    jwks.up.store(false, Ordering::SeqCst);
    query_as(&a, &sign(&new, &claims("")), ME).await;
    assert_eq!(jwks.hits(), 2, "A took the rotated key from Redis");
    let shared = redis.keys().key(KeySpace::Jwks, &[ISSUER]);
    let _: () = redis.query("del", redis::cmd("DEL").arg(&shared)).await.expect("del");
}

#[tokio::test]
async fn should_accept_a_rotated_key_at_once_after_starting_from_an_older_shared_copy() {
    let (old, new) = (rsa_key("2026-03"), ed_key("2026-04"));
    let jwks = Jwks::serve(&[&old]).await;
    let redis = test_redis();
    // The default least time between two fetches of the endpoint (30 s): B's start-up prefetch
    // takes the shared copy (without the rotated key), which is not a fetch, so the rotated key
    // is fetched for the first token instead of being refused for 30 s.
    let a = stack_sharing_keys(auth_options(&jwks, ""), &redis).await;
    query_as(&a, &sign(&old, &claims("")), ME).await;
    jwks.publish(&new);
    let b = started_sharing_keys(auth_options(&jwks, ""), &redis, true).await;
    query_as(&b, &sign(&new, &claims("")), ME).await;
    assert_eq!(jwks.hits(), 2, "A's fetch, then B's for the rotated key");
    let shared = redis.keys().key(KeySpace::Jwks, &[ISSUER]);
    let _: () = redis.query("del", redis::cmd("DEL").arg(&shared)).await.expect("del");
}

#[tokio::test]
async fn should_not_install_signing_keys_that_anyone_but_a_gateway_wrote_to_redis() {
    // The probe's attack: whoever can write to Redis plants a JWKS with a key of their own under
    // the issuer's key and signs an `admin crm:pii` token with it.
    let (good, evil) = (ec_key("idp-1"), ec_key("planted-1"));
    let jwks = Jwks::serve(&[&good]).await;
    let redis = test_redis();
    let shared = redis.keys().key(KeySpace::Jwks, &[ISSUER]);
    let planted = json!({ "keys": [evil.jwk] }).to_string();
    let _: () = redis
        .query("set", redis::cmd("SET").arg(&shared).arg(&planted).arg("EX").arg(600))
        .await
        .expect("set");
    let stack = stack_sharing_keys(auth_options(&jwks, "jwks_min_refresh_secs: 0\n"), &redis).await;
    let forged = sign(&evil, &claims("admin crm:pii"));
    let challenge = refused(&stack, Some(&format!("Bearer {forged}"))).await;
    assert!(challenge.contains("invalid_token"), "{challenge}");
    assert!(
        jwks.hits() >= 1,
        "the identity provider was asked instead of trusting Redis"
    );
    // A copy sealed by a gateway of another fleet (another claims key) is no better.
    let other = stack_sharing_keys_as(auth_options(&jwks, ""), &redis, &ClaimsKey::random()).await;
    let _: () = redis.query("del", redis::cmd("DEL").arg(&shared)).await.expect("del");
    jwks.publish(&evil);
    query_as(&other, &forged, ME).await; // the other fleet fetched and shared a document holding it
    jwks.keys.lock().expect("lock").retain(|k| k["kid"] != "planted-1");
    let ours = stack_sharing_keys(auth_options(&jwks, "jwks_min_refresh_secs: 0\n"), &redis).await;
    refused(&ours, Some(&format!("Bearer {forged}"))).await;
    // Keys from the identity provider still work, and the copy this fleet shares is used by it.
    query_as(&ours, &sign(&good, &claims("")), ME).await;
    let _: () = redis.query("del", redis::cmd("DEL").arg(&shared)).await.expect("del");
}

async fn stack_sharing_keys_as(options: AuthOptions, redis: &Redis, fleet: &ClaimsKey) -> Stack {
    started_sharing_keys_as(options, redis, false, fleet).await
}

#[tokio::test]
async fn should_validate_as_without_redis_when_redis_is_down() {
    let key = rsa_key("rsa-1");
    let jwks = Jwks::serve(&[&key]).await;
    // Nothing listens on port 1: every command fails at once and the breaker opens.
    let down = Redis::new(&RedisOptions {
        url: Some("redis://127.0.0.1:1".into()),
        prefix: format!("ps:test-{}:", Uuid::new_v4().simple()),
        ..RedisOptions::default()
    })
    .expect("redis client");
    let stack = stack_sharing_keys(auth_options(&jwks, ""), &down).await;
    for _ in 0..3 {
        query_as(&stack, &sign(&key, &claims("")), ME).await;
    }
    assert_eq!(jwks.hits(), 1, "fetched once and kept in memory, as without Redis");
}

#[tokio::test]
async fn should_run_callers_without_a_token_as_anonymous_when_tokens_are_optional() {
    let key = ed_key("ed-1");
    let jwks = Jwks::serve(&[&key]).await;
    let http = HttpOptions {
        anonymous_scopes: vec!["accounts:email".into()],
        ..HttpOptions::default()
    };
    let stack = stack_with_auth(auth_options(&jwks, "required: false\n"), http).await;
    let (status, _, body) = stack.send(request("{ me { email } }", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "data": { "me": { "email": "ada@example.com" } } }));
    assert_eq!(stack.seen.lock().expect("lock")[0].claims.sub, "anonymous");
    // A token that is sent is still checked.
    refused(&stack, Some("Bearer not-a-token")).await;
}

/// A stack whose callers present tokens signed by one Ed25519 key.
struct Caller {
    stack: Stack,
    key: TestKey,
    _jwks: Jwks,
}

impl Caller {
    async fn start() -> Caller {
        let key = ed_key("ed-1");
        let jwks = Jwks::serve(&[&key]).await;
        let stack = stack_with_auth(auth_options(&jwks, ""), HttpOptions::default()).await;
        Caller {
            stack,
            key,
            _jwks: jwks,
        }
    }

    async fn query(&self, scope: &str, query: &str) -> Value {
        query_as(&self.stack, &sign(&self.key, &claims(scope)), query).await
    }
}

#[tokio::test]
async fn should_null_a_field_the_token_lacks_a_scope_for_and_answer_the_rest() {
    let caller = Caller::start().await;
    assert_json_snapshot!(caller.query("", "{ me { username email } }").await, @r#"
    {
      "data": {
        "me": {
          "username": "ada",
          "email": null
        }
      },
      "errors": [
        {
          "message": "missing scope accounts:email for User.email",
          "locations": [
            {
              "line": 1,
              "column": 17
            }
          ],
          "path": [
            "me",
            "email"
          ],
          "extensions": {
            "code": "FORBIDDEN"
          }
        }
      ]
    }
    "#);
    // Either inner list of the requirement will do.
    for scope in ["accounts:email", "admin crm:read"] {
        let body = caller.query(scope, "{ me { username email } }").await;
        assert_eq!(
            body,
            json!({ "data": { "me": { "username": "ada", "email": "ada@example.com" } } }),
            "{scope}"
        );
    }
    // A selection left empty still resolves its parent.
    let body = caller.query("", "{ me { email } }").await;
    assert_eq!(body["data"], json!({ "me": { "email": null } }));
    // Under a list, one error at the list field.
    assert_json_snapshot!(caller.query("", "{ users { username mail: email } }").await, @r#"
    {
      "data": {
        "users": [
          {
            "username": "ada",
            "mail": null
          },
          {
            "username": "alan",
            "mail": null
          }
        ]
      },
      "errors": [
        {
          "message": "missing scope accounts:email for User.email",
          "locations": [
            {
              "line": 1,
              "column": 20
            }
          ],
          "path": [
            "users"
          ],
          "extensions": {
            "code": "FORBIDDEN"
          }
        }
      ]
    }
    "#);
    // Through fragments, the same.
    let body = caller
        .query("", "{ me { ...Contact } } fragment Contact on User { username email }")
        .await;
    assert_eq!(body["data"], json!({ "me": { "username": "ada", "email": null } }));
    assert_eq!(body["errors"][0]["path"], json!(["me", "email"]));
    // `@skip`ped fields are not reported.
    let body = caller.query("", "{ me { username email @skip(if: true) } }").await;
    assert_eq!(body, json!({ "data": { "me": { "username": "ada" } } }));
}

#[tokio::test]
async fn should_propagate_the_null_of_a_hidden_non_null_field_to_the_nearest_nullable_parent() {
    let caller = Caller::start().await;
    assert_json_snapshot!(caller.query("", r#"{ product(upc: "1") { name cost } reviews { id } }"#).await, @r#"
    {
      "data": {
        "product": null,
        "reviews": [
          {
            "id": "r1"
          },
          {
            "id": "r2"
          },
          {
            "id": "r3"
          },
          {
            "id": "r4"
          }
        ]
      },
      "errors": [
        {
          "message": "missing scope products:cost for Product.cost",
          "locations": [
            {
              "line": 1,
              "column": 28
            }
          ],
          "path": [
            "product",
            "cost"
          ],
          "extensions": {
            "code": "FORBIDDEN"
          }
        }
      ]
    }
    "#);
    // [Product!]: one hidden item nulls the whole (nullable) list.
    let body = caller.query("", "{ topProducts(first: 2) { upc cost } }").await;
    assert_eq!(body["data"], json!({ "topProducts": null }));
    assert_eq!(body["errors"].as_array().expect("errors").len(), 1, "{body}");
    let body = caller
        .query("products:cost", "{ topProducts(first: 2) { upc cost } }")
        .await;
    assert_eq!(
        body,
        json!({ "data": { "topProducts": [{ "upc": "1", "cost": 449 }, { "upc": "2", "cost": 649 }] } })
    );
}

#[tokio::test]
async fn should_apply_a_type_requirement_to_fields_returning_the_type() {
    let caller = Caller::start().await;
    let query = r#"{ product(upc: "1") { name stock { units } inStock } }"#;
    assert_json_snapshot!(caller.query("", query).await, @r#"
    {
      "data": {
        "product": {
          "name": "Table",
          "stock": null,
          "inStock": true
        }
      },
      "errors": [
        {
          "message": "missing scope inventory:stock for Product.stock",
          "locations": [
            {
              "line": 1,
              "column": 28
            }
          ],
          "path": [
            "product",
            "stock"
          ],
          "extensions": {
            "code": "FORBIDDEN"
          }
        }
      ]
    }
    "#);
    // Hidden fields are not planned: inventory, which only `stock` needs here, is not asked.
    caller.stack.seen.lock().expect("lock").clear();
    let body = caller
        .query("", r#"{ product(upc: "1") { name stock { units } } }"#)
        .await;
    assert_eq!(body["data"], json!({ "product": { "name": "Table", "stock": null } }));
    let asked: Vec<&str> = caller
        .stack
        .seen
        .lock()
        .expect("lock")
        .iter()
        .map(|s| s.subgraph)
        .collect();
    assert_eq!(asked, ["products"]);
    let body = caller.query("inventory:stock", query).await;
    assert_eq!(
        body,
        json!({ "data": { "product": { "name": "Table", "stock": { "units": 7 }, "inStock": true } } })
    );
}

#[tokio::test]
async fn should_plan_separately_for_callers_that_may_see_different_fields() {
    let caller = Caller::start().await;
    let query = "{ me { username email } }";
    let full = caller.query("accounts:email", query).await;
    assert_eq!(full["data"]["me"]["email"], "ada@example.com");
    // Same text, fewer scopes: not the plan cached for the caller above.
    let partial = caller.query("", query).await;
    assert_eq!(partial["data"]["me"]["email"], Value::Null);
    assert_eq!(partial["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let again = caller.query("admin", query).await;
    assert_eq!(again, full);
}

#[tokio::test]
async fn should_not_restrict_introspection() {
    let caller = Caller::start().await;
    let body = caller
        .query("", r#"{ __type(name: "Stock") { name fields { name } } }"#)
        .await;
    assert_eq!(
        body,
        json!({ "data": { "__type": { "name": "Stock", "fields": [{ "name": "units" }] } } })
    );
}

#[tokio::test]
async fn should_forward_the_verified_subject_scopes_and_organization_to_subgraphs() {
    let caller = Caller::start().await;
    let org = Uuid::new_v4();
    let mut c = claims("accounts:email crm:read");
    c["sub"] = json!("user-42");
    c["scp"] = json!(["sales:read"]);
    c["org"] = json!(org.to_string());
    let token = sign(&caller.key, &c);
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .header("x-request-id", "req-7")
        .body(Body::from(json!({ "query": "{ me { email } }" }).to_string()))
        .expect("request");
    let (status, _, body) = caller.stack.send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let seen = caller.stack.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1);
    let claims = &seen[0].claims;
    assert_eq!(claims.sub, "user-42");
    assert_eq!(claims.scopes, ["accounts:email", "crm:read", "sales:read"]);
    assert_eq!(claims.org, Some(org));
    // The request id travels in its own header: the signed claims are the caller's alone, so
    // one signature serves the caller's requests within the same second.
    assert_eq!(seen[0].request_id.as_deref(), Some("req-7"));
    assert_eq!(claims.rid, None);
}
