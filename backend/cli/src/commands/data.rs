//! `rooflaw data prepare`: text files → token shards with a manifest.

use anyhow::Result;
use rooflaw_train::data::{prepare, PrepareOptions};

use crate::render::{count, print_json, Format};

/// `data prepare`: tokenises and reports the counts.
pub fn prepare_cmd(format: Format, o: &PrepareOptions) -> Result<()> {
    let m = prepare(o)?;
    match format {
        Format::Json | Format::Csv => print_json(&m),
        Format::Table => {
            println!(
                "prepared {}: {:?} tokenizer ({} tokens in the vocabulary), {} training and {} validation tokens ({}); unigram entropy {:.3} nats/token",
                o.out.display(),
                m.tokenizer,
                count(u64::from(m.vocab_size)),
                count(m.train.tokens),
                count(m.validation.tokens),
                m.split,
                m.unigram_entropy_nats
            );
            Ok(())
        }
    }
}
