//! `rooflaw token create|list|revoke`: API tokens for `rooflaw serve`, written straight into its database.

use anyhow::{anyhow, Result};
use rooflaw_store::{Scope, Store};

use crate::render::{print_json, print_table, table, Format};

async fn open(url: &str) -> Result<Store> {
    Store::open(url).await.map_err(|e| anyhow!("cannot open the database: {e}"))
}

/// `token create`: prints the secret once.
pub fn create(format: Format, url: &str, name: &str, scopes: &[String]) -> Result<()> {
    let scopes = scopes.iter().map(|s| Scope::parse(s)).collect::<Result<Vec<_>, _>>().map_err(|e| anyhow!(e))?;
    if name.trim().is_empty() {
        return Err(anyhow!("--name must not be empty; name the person or agent the token is for"));
    }
    let (token, secret) =
        rooflaw_server::block_on(async { open(url).await?.create_token(name.trim(), &scopes).await.map_err(anyhow::Error::from) })?;
    match format {
        Format::Json | Format::Csv => print_json(&serde_json::json!({ "token": token, "secret": secret })),
        Format::Table => {
            println!("{secret}");
            eprintln!(
                "token {} '{}' ({}): the line above is its secret, shown this once; send it as `Authorization: Bearer …`",
                token.id,
                token.name,
                token.scopes.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
            );
            Ok(())
        }
    }
}

/// `token list`.
pub fn list(format: Format, url: &str) -> Result<()> {
    // Every token, a page at a time, oldest first.
    let mut tokens = rooflaw_server::block_on(async {
        let store = open(url).await?;
        let mut all = Vec::new();
        let mut before = None;
        loop {
            let page = store.tokens(rooflaw_store::Page { limit: 500, before }).await?;
            before = page.last().map(|t| t.id);
            let done = page.len() < 500;
            all.extend(page);
            if done {
                return Ok::<_, anyhow::Error>(all);
            }
        }
    })?;
    tokens.reverse();
    match format {
        Format::Json | Format::Csv => print_json(&tokens),
        Format::Table => {
            let mut t = table(&["id", "name", "scopes", "revoked"]);
            for k in &tokens {
                t.add_row(vec![
                    k.id.to_string(),
                    k.name.clone(),
                    k.scopes.iter().map(|s| s.name()).collect::<Vec<_>>().join(", "),
                    if k.revoked { "yes" } else { "no" }.to_string(),
                ]);
            }
            print_table(&t);
            Ok(())
        }
    }
}

/// `token revoke`.
pub fn revoke(format: Format, url: &str, id: i64) -> Result<()> {
    let token = rooflaw_server::block_on(async { open(url).await?.revoke_token(id).await.map_err(anyhow::Error::from) })?;
    match format {
        Format::Json | Format::Csv => print_json(&token),
        Format::Table => {
            println!("revoked token {} '{}'", token.id, token.name);
            Ok(())
        }
    }
}
