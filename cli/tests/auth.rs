//! `promptsales auth` and `promptsales token` through the binary, against the real PostgreSQL:
//! the dev authorization server's discovery, JWKS and token endpoint, client and key storage,
//! key rotation, and the dev client of `promptsales token`.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Output, Stdio},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use promptsales_platform::Store;
use promptsales_testkit::TestDb;
use serde_json::Value;
use uuid::Uuid;

/// Keys of the keyring the server seals its signing keys with (fixed test values).
const KEKS: &str = "test-kek:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
const BLIND: &str = "CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg=";

fn command(db: &TestDb, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_promptsales"));
    cmd.args(args);
    for store in Store::ALL {
        cmd.env_remove(format!("PROMPTSALES_{}_URL", store.name().to_uppercase()));
    }
    cmd.env("PROMPTSALES_SALES_URL", db.url().expose().as_str())
        .env("PROMPTSALES_KEKS", KEKS)
        .env("PROMPTSALES_BLIND_INDEX_KEY", BLIND)
        .env_remove("PROMPTSALES_AUTH_URL")
        .env_remove("PROMPTSALES_CLIENT_ID")
        .env_remove("PROMPTSALES_CLIENT_SECRET");
    cmd
}

fn promptsales(db: &TestDb, args: &[&str]) -> Output {
    let out = command(db, args).output().expect("run promptsales");
    assert!(
        out.status.success(),
        "promptsales {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A running `promptsales auth --port 0`, killed when dropped.
struct AuthServer {
    child: Child,
    url: String,
}

impl AuthServer {
    fn start(db: &TestDb) -> AuthServer {
        let mut child = command(db, &["auth", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start promptsales auth");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read the address");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        AuthServer { child, url }
    }

    async fn get(&self, path: &str) -> Value {
        let response = reqwest::get(format!("{}{path}", self.url)).await.expect("GET");
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON")
    }

    async fn token(
        &self,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut request = reqwest::Client::new().post(format!("{}/token", self.url)).form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        let response = request.send().await.expect("POST /token");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.json().await.expect("JSON body"))
    }

    /// An access token by HTTP Basic client authentication.
    async fn access_token(&self, id: &str, secret: &str, scope: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend(scope.map(|s| ("scope", s)));
        let (status, _, body) = self.token(Some((id, secret)), &form).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().expect("access_token").to_owned()
    }

    /// Verifies `token` with the published JWKS as a resource server would; its header and claims.
    async fn verify(&self, token: &str) -> (jsonwebtoken::Header, Value) {
        let header = jsonwebtoken::decode_header(token).expect("JWT header");
        let jwks: JwkSet = serde_json::from_value(self.get("/jwks.json").await).expect("a JWK set");
        let kid = header.kid.as_deref().expect("kid");
        let jwk = jwks.find(kid).unwrap_or_else(|| panic!("kid {kid} is not published"));
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&["promptsales-gateway"]);
        validation.set_issuer(&[&self.url]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        let key = DecodingKey::from_jwk(jwk).expect("decoding key");
        let data = jsonwebtoken::decode::<Value>(token, &key, &validation).expect("token verifies");
        (header, data.claims)
    }
}

impl Drop for AuthServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn add_client(db: &TestDb, id: &str, scopes: &str, org: Option<Uuid>) -> String {
    let org = org.map(|o| o.to_string());
    let mut args = vec!["auth", "add-client", "--id", id, "--scopes", scopes];
    if let Some(org) = &org {
        args.extend(["--org", org]);
    }
    let out = promptsales(db, &args);
    String::from_utf8(out.stdout).expect("UTF-8").trim().to_owned()
}

async fn organization(db: &TestDb) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO sales.organizations (id, name, country_code) VALUES ($1, 'Acme', 'CR')")
        .bind(id)
        .execute(db.pool())
        .await
        .expect("insert an organization");
    id
}

fn assert_oauth_error(status: u16, body: &Value, want_status: u16, want: &str) {
    assert_eq!((status, body["error"].as_str()), (want_status, Some(want)), "{body}");
}

#[tokio::test]
async fn should_publish_discovery_and_a_public_es256_jwks() {
    let db = TestDb::migrated(Store::Sales).await;
    let server = AuthServer::start(&db);
    let discovery = server.get("/.well-known/openid-configuration").await;
    assert_eq!(discovery["issuer"], server.url.as_str());
    assert_eq!(discovery["jwks_uri"], format!("{}/jwks.json", server.url));
    assert_eq!(discovery["token_endpoint"], format!("{}/token", server.url));
    assert_eq!(
        discovery["grant_types_supported"],
        serde_json::json!(["client_credentials"])
    );
    assert_eq!(
        discovery["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post"])
    );
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        serde_json::json!(["ES256"])
    );

    let jwks = server.get("/jwks.json").await;
    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1, "one key created on first start: {jwks}");
    let key = keys[0].as_object().expect("a JWK");
    assert_eq!((key["kty"].as_str(), key["crv"].as_str()), (Some("EC"), Some("P-256")));
    assert_eq!((key["alg"].as_str(), key["use"].as_str()), (Some("ES256"), Some("sig")));
    assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()));
    assert!(!key.contains_key("d"), "no private part is published");

    // A restart reuses the stored key instead of creating another.
    drop(server);
    let again = AuthServer::start(&db);
    assert_eq!(again.get("/jwks.json").await, jwks);
}

#[tokio::test]
async fn should_issue_a_verifiable_token_by_basic_and_by_form_client_authentication() {
    let db = TestDb::migrated(Store::Sales).await;
    let org = organization(&db).await;
    let secret = add_client(&db, "portal", "ads:read crm:read", Some(org));
    assert_eq!(URL_SAFE_NO_PAD.decode(&secret).expect("base64url secret").len(), 32);
    let server = AuthServer::start(&db);

    let (status, headers, body) = server
        .token(Some(("portal", &secret)), &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "ads:read crm:read");
    let (header, claims) = server.verify(body["access_token"].as_str().expect("token")).await;
    assert_eq!(header.alg, Algorithm::ES256);
    assert_eq!(claims["iss"], server.url.as_str());
    assert_eq!(claims["sub"], "portal");
    assert_eq!(claims["aud"], "promptsales-gateway");
    assert_eq!(claims["scope"], "ads:read crm:read", "all allowed scopes by default");
    assert_eq!(claims["org"], org.to_string());
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        900
    );
    assert!(claims["jti"].as_str().is_some_and(|j| Uuid::parse_str(j).is_ok()));

    let (status, _, body) = server
        .token(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "portal"),
                ("client_secret", &secret),
                ("scope", "crm:read"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, claims) = server.verify(body["access_token"].as_str().expect("token")).await;
    assert_eq!(claims["scope"], "crm:read");
}

#[tokio::test]
async fn should_refuse_bad_clients_scopes_and_grants_with_rfc_6749_errors() {
    let db = TestDb::migrated(Store::Sales).await;
    let secret = add_client(&db, "portal", "ads:read", None);
    let gone = add_client(&db, "gone", "ads:read", None);
    promptsales(&db, &["auth", "disable-client", "--id", "gone"]);
    let server = AuthServer::start(&db);
    let grant = [("grant_type", "client_credentials")];

    for (who, id, secret) in [
        ("wrong secret", "portal", "not-the-secret"),
        ("unknown client", "nobody", secret.as_str()),
        ("disabled client", "gone", gone.as_str()),
    ] {
        let (status, headers, body) = server.token(Some((id, secret)), &grant).await;
        assert_oauth_error(status, &body, 401, "invalid_client");
        assert!(
            headers["www-authenticate"]
                .to_str()
                .expect("ASCII")
                .starts_with("Basic"),
            "{who}"
        );
    }
    let (status, _, body) = server.token(None, &grant).await;
    assert_oauth_error(status, &body, 401, "invalid_client");

    let (status, headers, body) = server
        .token(
            Some(("portal", &secret)),
            &[("grant_type", "client_credentials"), ("scope", "ads:read crm:write")],
        )
        .await;
    assert_oauth_error(status, &body, 400, "invalid_scope");
    assert_eq!(headers["cache-control"], "no-store");

    let (status, _, body) = server
        .token(Some(("portal", &secret)), &[("grant_type", "password")])
        .await;
    assert_oauth_error(status, &body, 400, "unsupported_grant_type");

    let (status, _, body) = server.token(Some(("portal", &secret)), &[("scope", "ads:read")]).await;
    assert_oauth_error(status, &body, 400, "invalid_request");
}

#[tokio::test]
async fn should_store_only_an_argon2_hash_of_secrets_and_sealed_private_keys() {
    let db = TestDb::migrated(Store::Sales).await;
    let secret = add_client(&db, "portal", "ads:read", None);
    let _server = AuthServer::start(&db);

    let hash: String = sqlx::query_scalar("SELECT secret_hash FROM sales.oauth_clients WHERE client_id = 'portal'")
        .fetch_one(db.pool())
        .await
        .expect("client row");
    assert!(hash.starts_with("$argon2id$"), "a PHC string: {hash}");
    assert!(!hash.contains(&secret));

    let (private_key, jwk): (Vec<u8>, Value) =
        sqlx::query_as("SELECT private_key, public_jwk FROM sales.oauth_signing_keys")
            .fetch_one(db.pool())
            .await
            .expect("key row");
    assert!(
        !String::from_utf8_lossy(&private_key).contains("PRIVATE KEY"),
        "not PEM"
    );
    use p256::pkcs8::DecodePrivateKey;
    assert!(
        p256::ecdsa::SigningKey::from_pkcs8_der(&private_key).is_err(),
        "not DER"
    );
    assert!(jwk.get("d").is_none());
}

#[tokio::test]
async fn should_keep_verifying_tokens_of_the_previous_key_after_a_rotation() {
    let db = TestDb::migrated(Store::Sales).await;
    let secret = add_client(&db, "portal", "ads:read", None);
    let server = AuthServer::start(&db);
    let before = server.access_token("portal", &secret, None).await;
    let (old_header, _) = server.verify(&before).await;

    promptsales(&db, &["auth", "rotate-key"]);

    let jwks = server.get("/jwks.json").await;
    assert_eq!(
        jwks["keys"].as_array().expect("keys").len(),
        2,
        "old key still published: {jwks}"
    );
    server.verify(&before).await;
    let after = server.access_token("portal", &secret, None).await;
    let (new_header, _) = server.verify(&after).await;
    assert_ne!(new_header.kid, old_header.kid, "new tokens carry the new kid");
}

#[tokio::test]
async fn should_print_a_token_for_the_local_dev_client_and_keep_its_secret_private() {
    let db = TestDb::migrated(Store::Sales).await;
    let server = AuthServer::start(&db);
    let dev_dir = tempfile::tempdir().expect("temp dir");
    let dir = dev_dir.path().to_str().expect("UTF-8 path");
    let token = |scopes: &str| {
        let mut args = vec!["token", "--scopes", scopes, "--auth-url", &server.url, "--dev-dir", dir];
        // The local PostgreSQL (127.0.0.1) must count as this machine; a test server elsewhere
        // (PROMPTSALES_TEST_PG_URL) needs the override.
        if std::env::var_os("PROMPTSALES_TEST_PG_URL").is_some() {
            args.push("--dev-client-anywhere");
        }
        let out = promptsales(&db, &args);
        String::from_utf8(out.stdout).expect("UTF-8").trim().to_owned()
    };

    let first = token("ads:read");
    let (_, claims) = server.verify(&first).await;
    assert_eq!(
        (claims["sub"].as_str(), claims["scope"].as_str()),
        (Some("dev"), Some("ads:read"))
    );
    let path = dev_dir.path().join("auth-dev-client");
    let secret = std::fs::read_to_string(&path).expect("secret file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("metadata").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Later calls reuse the secret and widen the dev client to what they ask for.
    let second = token("ads:read crm:read");
    let (_, claims) = server.verify(&second).await;
    assert_eq!(claims["scope"], "ads:read crm:read");
    assert_eq!(std::fs::read_to_string(&path).expect("secret file"), secret);

    // An explicit client goes through the same endpoint.
    let portal = add_client(&db, "portal", "sales:read", None);
    let out = promptsales(
        &db,
        &[
            "token",
            "--client-id",
            "portal",
            "--client-secret",
            &portal,
            "--auth-url",
            &server.url,
        ],
    );
    let (_, claims) = server.verify(String::from_utf8_lossy(&out.stdout).trim()).await;
    assert_eq!(
        (claims["sub"].as_str(), claims["scope"].as_str()),
        (Some("portal"), Some("sales:read"))
    );
}

#[tokio::test]
async fn should_issue_tokens_the_gateway_accepts() {
    use promptsales_gateway::auth::{AuthOptions, Authenticator};

    let db = TestDb::migrated(Store::Sales).await;
    let org = organization(&db).await;
    let secret = add_client(&db, "portal", "ads:read crm:read", Some(org));
    let server = AuthServer::start(&db);
    // The gateway's `auth:` section as docs/auth.md gives it, with the server's address.
    let options: AuthOptions = serde_json::from_value(serde_json::json!({
        "issuers": [{
            "issuer": server.url,
            "audiences": ["promptsales-gateway"],
            "jwks_url": format!("{}/jwks.json", server.url),
            "algorithms": ["ES256"],
        }],
        // The gateway refetches a JWKS at most this often; here the rotation follows at once.
        "jwks_min_refresh_secs": 0,
    }))
    .expect("gateway auth options");
    let gateway = Authenticator::new(options).expect("authenticator");

    let token = server.access_token("portal", &secret, Some("crm:read")).await;
    let caller = gateway
        .authenticate(Some(format!("Bearer {token}").as_bytes()))
        .await
        .expect("the gateway accepts the token")
        .expect("a caller");
    assert_eq!(caller.subject, "portal");
    assert_eq!(caller.scopes, ["crm:read"]);
    assert_eq!(caller.organization, Some(org));

    // After a rotation the gateway meets an unknown kid, refetches the JWKS and accepts the new
    // token; the old one still verifies.
    promptsales(&db, &["auth", "rotate-key"]);
    let rotated = server.access_token("portal", &secret, None).await;
    for token in [&token, &rotated] {
        gateway
            .authenticate(Some(format!("Bearer {token}").as_bytes()))
            .await
            .expect("accepted across the rotation");
    }
}

/// `auth local-client` (what `make up` gives the agenda worker): created once, its secret kept in
/// a private file and reused, so a second run changes nothing and the secret gets tokens.
#[tokio::test]
async fn should_create_a_local_client_once_and_reuse_its_secret() {
    let db = TestDb::migrated(Store::Sales).await;
    let server = AuthServer::start(&db);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("worker-client-secret");
    let path = file.to_str().expect("UTF-8 path");
    let args = [
        "auth",
        "local-client",
        "--id",
        "worker",
        "--scopes",
        "ads:read ads:write",
        "--secret-file",
        path,
    ];
    if std::env::var_os("PROMPTSALES_TEST_PG_URL").is_some() {
        // A test server on another machine: refused, as the dev client is.
        assert!(!command(&db, &args).output().expect("run").status.success());
        return;
    }
    let out = promptsales(&db, &args);
    let secret = std::fs::read_to_string(&file).expect("secret file");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(secret.trim()),
        "never printed"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("metadata").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    promptsales(&db, &args);
    assert_eq!(std::fs::read_to_string(&file).expect("secret file"), secret, "reused");

    let token = server
        .access_token("worker", secret.trim(), Some("ads:read ads:write"))
        .await;
    let (_, claims) = server.verify(&token).await;
    assert_eq!(
        (claims["sub"].as_str(), claims["scope"].as_str()),
        (Some("worker"), Some("ads:read ads:write"))
    );
}

#[tokio::test]
async fn should_refuse_to_manage_the_dev_client_in_a_store_on_another_machine() {
    let db = TestDb::migrated(Store::Sales).await;
    let out = command(
        &db,
        &[
            "token",
            "--scopes",
            "ads:read",
            "--sales-url",
            "postgres://promptsales@db.example.com:5432/promptsales",
        ],
    )
    .output()
    .expect("run promptsales token");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("only managed in a sales store on this machine"),
        "{stderr}"
    );
}

#[tokio::test]
async fn should_throttle_a_client_id_after_repeated_failed_authentications() {
    let db = TestDb::migrated(Store::Sales).await;
    let secret = add_client(&db, "portal", "ads:read", None);
    let server = AuthServer::start(&db);
    let grant = [("grant_type", "client_credentials")];
    // The default: 10 failures per client id and minute, each an Argon2 verification.
    for _ in 0..10 {
        let (status, _, body) = server.token(Some(("portal", "guess")), &grant).await;
        assert_oauth_error(status, &body, 401, "invalid_client");
    }
    let (status, headers, body) = server.token(Some(("portal", "guess")), &grant).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"], "slow_down");
    let retry: u64 = headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // Even the right secret waits: the throttle does not tell guesses from the owner.
    let (status, _, _) = server.token(Some(("portal", &secret)), &grant).await;
    assert_eq!(status, 429);
    // Other clients are not affected.
    let other = add_client(&db, "other", "ads:read", None);
    server.access_token("other", &other, None).await;
}
