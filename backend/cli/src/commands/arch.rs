//! `rooflaw arch list` and `rooflaw arch show`: reference models and exact parameter breakdowns.

use anyhow::Result;
use rooflaw::models::reference_models;
use rooflaw::Architecture;
use serde::Serialize;

use crate::render::{count, print_csv, print_json, print_table, table, Format};

#[derive(Serialize)]
struct ModelRow<'a> {
    id: &'a str,
    name: &'a str,
    total_params: u64,
    active_params: u64,
    published_params: u64,
    layers: u64,
    d_model: u64,
    heads: u64,
    kv_heads: u64,
    experts: u64,
    active_experts: u64,
    hf_id: &'a str,
    source: &'a str,
}

/// `arch list`.
pub fn list(format: Format) -> Result<()> {
    let mut rows = Vec::new();
    for m in reference_models() {
        let a = m.architecture()?;
        let p = a.params();
        rows.push((m, a, p));
    }
    let records: Vec<ModelRow> = rows
        .iter()
        .map(|(m, a, p)| ModelRow {
            id: &m.id,
            name: &a.name,
            total_params: p.total,
            active_params: p.active,
            published_params: m.published_params,
            layers: a.layers,
            d_model: a.d_model,
            heads: a.heads,
            kv_heads: a.kv_heads,
            experts: a.experts,
            active_experts: a.active_experts,
            hf_id: &m.hf_id,
            source: &m.source,
        })
        .collect();
    match format {
        Format::Json => print_json(&records),
        Format::Csv => print_csv(&records),
        Format::Table => {
            let mut t = table(&["id", "parameters", "active", "l", "d", "heads/kv", "E/K", "published as"]);
            for (m, a, p) in &rows {
                t.add_row(vec![
                    m.id.clone(),
                    count(p.total),
                    count(p.active),
                    a.layers.to_string(),
                    a.d_model.to_string(),
                    format!("{}/{}", a.heads, a.kv_heads),
                    format!("{}/{}", a.experts, a.active_experts),
                    m.published_note.clone(),
                ]);
            }
            print_table(&t);
            Ok(())
        }
    }
}

#[derive(Serialize)]
struct ArchReport<'a> {
    architecture: &'a Architecture,
    params: rooflaw::ParamBreakdown,
    gqa: f64,
    ffn_ratio: f64,
    rho: f64,
}

#[derive(Serialize)]
struct ComponentRow {
    component: &'static str,
    parameters: u64,
}

/// `arch show`.
pub fn show(format: Format, a: &Architecture) -> Result<()> {
    let p = a.params();
    let components = [
        ("embedding", p.embedding),
        ("attention", p.attention),
        ("ffn_total", p.ffn_total),
        ("ffn_active", p.ffn_active),
        ("router", p.router),
        ("norms", p.norms),
        ("lm_head", p.lm_head),
        ("total", p.total),
        ("active", p.active),
        ("non_embedding_active", p.non_embedding_active),
    ];
    match format {
        Format::Json => print_json(&ArchReport { architecture: a, params: p, gqa: a.gqa(), ffn_ratio: a.ffn_ratio(), rho: a.rho() }),
        Format::Csv => print_csv(&components.map(|(component, parameters)| ComponentRow { component, parameters })),
        Format::Table => {
            println!("{}", a.name);
            println!(
                "  layers {}, d_model {}, heads {} / kv_heads {} (gqa {}), head_dim {}, expert FFN {} (r = {:.3}), experts {} / active {} (ρ = {:.3}), vocab {}, {}, qk_norm {:?}, attention bias {:?}",
                a.layers,
                a.d_model,
                a.heads,
                a.kv_heads,
                a.gqa(),
                a.head_dim,
                a.intermediate_size,
                a.ffn_ratio(),
                a.experts,
                a.active_experts,
                a.rho(),
                a.vocab_size,
                if a.tied_embeddings { "tied embeddings" } else { "untied embeddings" },
                a.qk_norm,
                a.attention_bias
            );
            let mut t = table(&["component", "parameters"]);
            for (c, n) in components {
                t.add_row(vec![c.to_string(), count(n)]);
            }
            print_table(&t);
            Ok(())
        }
    }
}
