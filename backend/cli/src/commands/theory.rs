//! `rooflaw theory`: the paper's §6 (budgets, regime, ρ*, l*, r*, gqa*).

use anyhow::Result;
use rooflaw::api::{theory, Context, TheoryRequest};

use crate::render::{bytes, print_csv, print_json, print_table, table, Format};

/// `theory`: §6 for a device or the worked example.
pub fn run(format: Format, ctx: &Context, req: &TheoryRequest) -> Result<()> {
    let r = theory(req, ctx)?;
    match format {
        Format::Json => print_json(&r),
        Format::Csv => print_csv(&[serde_json::json!({
            "eta": r.eta, "eta_prefill": r.eta_prefill, "regime": r.regime.name(),
            "rho_memory_bound": r.rho_memory_bound, "rho_prefill_memory": r.rho_prefill_memory,
            "rho_decode_memory_quadratic": r.rho_decode_memory.map(|x| x.quadratic),
            "rho_decode_memory_linear": r.rho_decode_memory.map(|x| x.linear),
            "layers_prefill": r.layers_prefill, "layers_decode": r.layers_decode, "layers_memory_dense": r.layers_memory_dense,
        })]),
        Format::Table => {
            let i = &r.input;
            println!(
                "π {:.3} TFLOP/s, β {:.1} GB/s, memory budget {}, B {}, S_in {}, S_out {}, b_w {}, b_kv {}; evaluated at d = {}, r = {}, gqa = {}",
                i.peak_flops_per_sec / 1e12,
                i.mem_bandwidth_bytes_per_sec / 1e9,
                bytes(i.memory_budget_bytes),
                i.batch,
                i.prompt_tokens,
                i.generated_tokens,
                i.weight_bytes,
                i.kv_bytes,
                i.d_model,
                i.ffn_ratio,
                i.gqa
            );
            let opt = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or("–".to_string(), f);
            let mut t = table(&["quantity", "value"]);
            t.add_row(vec!["F̄_p (FLOPs per token)".into(), opt(r.prefill_flops_budget, &|v| format!("{v:.4e}"))]);
            t.add_row(vec!["M̄_d (bytes per decode step)".into(), opt(r.decode_bytes_budget, &|v| bytes(v))]);
            t.add_row(vec!["η = M̄_d / M".into(), opt(r.eta, &|v| format!("{v:.4}"))]);
            t.add_row(vec!["η_p = F̄_p / M".into(), opt(r.eta_prefill, &|v| format!("{v:.4}"))]);
            t.add_row(vec!["regime".to_string(), r.regime.name().to_string()]);
            t.add_row(vec!["ρ* latency-bound (Thm 5.1)".to_string(), r.rho_latency_bound.to_string()]);
            t.add_row(vec!["ρ* memory-bound (Eq. 9)".into(), opt(r.rho_memory_bound, &|v| format!("{v:.4}"))]);
            t.add_row(vec!["ρ* prefill + memory (Eq. 10)".into(), opt(r.rho_prefill_memory, &|v| format!("{v:.4}"))]);
            if let Some(x) = r.rho_decode_memory {
                t.add_row(vec!["ρ* decode + memory, paper's quadratic (Eq. 11)".into(), format!("{:.4}", x.quadratic)]);
                t.add_row(vec![
                    "ρ* decode + memory, direct linear form".into(),
                    format!("{:.4} (difference {:+.4})", x.linear, x.difference),
                ]);
            }
            t.add_row(vec!["l* prefill".into(), opt(r.layers_prefill, &|v| format!("{v:.2}"))]);
            t.add_row(vec!["l* decode".into(), opt(r.layers_decode, &|v| format!("{v:.2}"))]);
            t.add_row(vec!["l* memory (dense)".into(), format!("{:.2}", r.layers_memory_dense)]);
            for (name, fp) in
                [("prefill (P1)", r.optimum_prefill), ("decode", r.optimum_decode), ("memory (dense)", Some(r.optimum_memory))]
            {
                if let Some(p) = fp {
                    t.add_row(vec![
                        format!("r*, gqa*, l* {name}"),
                        format!(
                            "{:.3}, {:.3}, {:.2} ({} iterations{})",
                            p.ffn_ratio,
                            p.gqa,
                            p.layers,
                            p.iterations,
                            if p.converged { "" } else { ", NOT converged" }
                        ),
                    ]);
                }
            }
            print_table(&t);
            for n in &r.notes {
                println!("note: {n}");
            }
            Ok(())
        }
    }
}
