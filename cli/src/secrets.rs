//! `promptsales secrets seal --purpose P`: seals a secret read from standard input (an API key, a
//! client secret, a credentials document) under the configured key-encryption keys, and prints the
//! sealed text to put in configuration instead of the plaintext. The process that reads that
//! setting opens it with the same keys (`promptsales_platform::crypto::open_text`), so the secret
//! is never at rest in the clear: not in a `.env` file, a Kubernetes Secret or a backup of either.

use std::io::Read as _;

use anyhow::{Context, ensure};
use promptsales_platform::crypto::{Keyring, seal_text};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Seal standard input (one value; a final newline is dropped) and print the sealed text.
    Seal {
        /// The setting the value is for (bound into the ciphertext: a value sealed for one
        /// setting is refused by another), e.g. `mcp.content.llm`.
        #[arg(long, value_parser = purpose)]
        purpose: String,
    },
}

fn purpose(s: &str) -> Result<String, String> {
    let ok = (1..=100).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(s.to_owned())
    } else {
        Err("1 to 100 characters of a-z, 0-9, '.', '_' and '-' (e.g. mcp.content.llm)".to_owned())
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Seal { purpose } => {
            let keyring = Keyring::from_env().context("the key-encryption keys (PROMPTSALES_KEKS)")?;
            let mut plaintext = zeroize::Zeroizing::new(String::new());
            std::io::stdin()
                .read_to_string(&mut plaintext)
                .context("reading the secret from standard input")?;
            let value = plaintext.strip_suffix('\n').unwrap_or(&plaintext);
            let value = value.strip_suffix('\r').unwrap_or(value);
            ensure!(!value.is_empty(), "nothing to seal: give the secret on standard input");
            println!("{}", seal_text(&keyring, &purpose, value, &mut rand::rng()));
            Ok(())
        }
    }
}
