//! `promptsales secrets seal` through the binary: what it prints opens with the same keys for the
//! same purpose only, and bad input is refused with a message that says what was wrong.

use std::{
    io::Write as _,
    process::{Command, Output, Stdio},
};

use promptsales_platform::crypto::{Keyring, open_text};

const KEKS: &str = "test-kek:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
const BLIND: &str = "CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg=";

fn seal(args: &[&str], stdin: &str, keks: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_promptsales"));
    command
        .args(["secrets", "seal"])
        .args(args)
        .env_remove("PROMPTSALES_KEKS")
        .env("PROMPTSALES_BLIND_INDEX_KEY", BLIND)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(keks) = keks {
        command.env("PROMPTSALES_KEKS", keks);
    }
    let mut child = command.spawn().expect("run promptsales secrets seal");
    child
        .stdin
        .take()
        .expect("test setup")
        .write_all(stdin.as_bytes())
        .expect("test setup");
    child.wait_with_output().expect("test setup")
}

#[test]
fn should_seal_a_secret_that_opens_for_its_purpose_only() {
    let out = seal(
        &["--purpose", "mcp.content.llm"],
        "{\"api_key\":\"sk-test-1\"}\n",
        Some(KEKS),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sealed = String::from_utf8(out.stdout).expect("test setup");
    assert!(sealed.starts_with("ps1:test-kek:"), "{sealed}");
    assert!(!sealed.contains("sk-test-1"), "the plaintext must not be printed");
    let keyring = Keyring::parse(KEKS, BLIND).expect("test setup");
    let opened = open_text(&keyring, "mcp.content.llm", &sealed).expect("test setup");
    assert_eq!(
        opened.as_str(),
        "{\"api_key\":\"sk-test-1\"}",
        "the final newline is dropped"
    );
    assert!(open_text(&keyring, "mcp.sales.llm", &sealed).is_err());
}

#[test]
fn should_refuse_empty_input_a_bad_purpose_and_missing_keys() {
    let empty = seal(&["--purpose", "mcp.content.llm"], "\n", Some(KEKS));
    assert!(!empty.status.success());
    assert!(String::from_utf8_lossy(&empty.stderr).contains("nothing to seal"));

    let bad = seal(&["--purpose", "MCP content"], "x", Some(KEKS));
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("a-z, 0-9"));

    let keyless = seal(&["--purpose", "mcp.content.llm"], "x", None);
    assert!(!keyless.status.success());
    assert!(String::from_utf8_lossy(&keyless.stderr).contains("PROMPTSALES_KEKS"));
}
