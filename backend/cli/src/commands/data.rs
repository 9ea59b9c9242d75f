//! `rooflaw data list|fetch|prepare`: public-domain corpora, and text files → token shards with a manifest.

use anyhow::Result;
use rooflaw_train::corpora::{corpus_dir, fetch, Corpus, CORPORA};
use rooflaw_train::data::{prepare, PrepareOptions};

use crate::render::{count, print_json, print_table, table, Format};

/// `data prepare`: tokenises and reports the counts.
pub fn prepare_cmd(format: Format, o: &PrepareOptions) -> Result<()> {
    let m = prepare(o)?;
    match format {
        Format::Json | Format::Csv => print_json(&m),
        Format::Table => {
            println!(
                "prepared {}: {} tokenizer ({} tokens in the vocabulary), {} training and {} validation tokens (validation set: {}); unigram entropy {:.3} nats/token",
                o.out.display(),
                m.tokenizer.name(),
                count(u64::from(m.vocab_size)),
                count(m.train.tokens),
                count(m.validation.tokens),
                m.validation_name(),
                m.unigram_entropy_nats
            );
            Ok(())
        }
    }
}

/// `data list`: the known corpora and where each is (or would be) cached.
pub fn list(format: Format, data_dir: &std::path::Path) -> Result<()> {
    let rows: Vec<serde_json::Value> = CORPORA
        .iter()
        .map(|c| {
            let dir = corpus_dir(data_dir, c);
            serde_json::json!({ "corpus": c.name, "package": c.package, "description": c.description, "licence": c.licence, "role": c.role, "fetched": dir.is_dir(), "dir": dir })
        })
        .collect();
    match format {
        Format::Json | Format::Csv => print_json(&rows),
        Format::Table => {
            let mut t = table(&["corpus", "package", "what", "role", "fetched"]);
            for c in &CORPORA {
                t.add_row(vec![c.name, c.package, c.description, c.role, if corpus_dir(data_dir, c).is_dir() { "yes" } else { "no" }]);
            }
            print_table(&t);
            println!("data folder: {}", data_dir.display());
            Ok(())
        }
    }
}

/// `data fetch`: downloads (or finds in the cache) each corpus.
pub fn fetch_cmd(format: Format, data_dir: &std::path::Path, corpora: &[&'static Corpus]) -> Result<()> {
    let mut done = Vec::new();
    for c in corpora {
        let f = fetch(data_dir, c)?;
        if format == Format::Table {
            println!(
                "{}: {} text files, {} bytes in {}{}",
                f.corpus,
                f.files,
                count(f.bytes),
                f.dir.display(),
                if f.cached { " (already fetched)" } else { "" }
            );
        }
        done.push(f);
    }
    if format != Format::Table {
        print_json(&done)?;
    }
    Ok(())
}
