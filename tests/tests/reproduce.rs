//! `rooflaw reproduce` against the science crate: the report lays out exactly the claims `findings` computes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: test code; a failed unwrap is a failed test

use rooflaw::findings::reproduce;
use rooflaw::Catalogue;
use rooflaw_tests::{run, stderr, tmp};

#[test]
fn the_report_lays_out_the_claims_of_the_science_crate() {
    let dir = tmp("reproduce");
    let out = dir.join("REPRODUCTION.md");
    // A recorded section after the generated ones survives regeneration.
    std::fs::write(&out, "# old\n\n## Mini campaign\n\nrecorded by hand\n").unwrap();
    let o = run(&["reproduce", "--samples", "3000", "--seed", "7", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = std::fs::read_to_string(&out).unwrap();
    let r = reproduce(Catalogue::default().get("jetson-agx-orin-64gb").unwrap(), 3000, 7).unwrap();
    // Every claim, with its scope, finding and verdict, is one row of the report's claims table.
    for c in &r.claims {
        let row = format!("| {} | {}: {} | {} |", c.claim, c.scope, c.finding, c.verdict);
        assert!(md.contains(&row), "missing row {row}");
    }
    assert!(md.ends_with("## Mini campaign\n\nrecorded by hand\n") && !md.contains("# old"), "{md}");
    let rows = md.lines().filter(|l| l.starts_with("| ") && l.ends_with(" |")).count();
    // Header rows of four tables plus 24 frontiers, 12 shifts, the claims and the calibrated MoE rows.
    assert_eq!(rows, 4 + r.cells.len() + r.shifts.len() + r.claims.len() + r.moe.len(), "{md}");
    for m in &r.moe {
        assert!(md.contains(&format!("| {} | {} | {} | {} |", m.space, m.objective.name(), m.scenario, m.findings.size)), "{}", m.scenario);
    }
    // At the paper level the INT8 frontier is exactly 2× faster (bytes halve, Orin's INT8 peak is 2× FP16):
    // the report says the paper's "less than 2×" disagrees there, six times (one per space × objective).
    assert_eq!(md.matches("| INT8 moves the frontier to lower latency by less than 2× | `").count(), 12);
    assert_eq!(md.matches("paper level, prefill: median speed-up 2.00× (range 2.00–2.00×) | disagrees").count(), 2);
}
