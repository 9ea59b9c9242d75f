//! Writes one aborting `extern "C"` function per name in `symbols.txt` (see `src/lib.rs`).

use std::fmt::Write as _;

fn main() {
    println!("cargo:rerun-if-changed=symbols.txt");
    let list = std::fs::read_to_string("symbols.txt").unwrap_or_default();
    let names: Vec<&str> = list.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    let mut code = String::new();
    for name in &names {
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "symbols.txt: '{name}' is not a C identifier");
        let _ = writeln!(code, "#[no_mangle]\npub extern \"C\" fn {name}() -> ! {{ crate::never_called(\"{name}\") }}");
    }
    let _ = writeln!(
        code,
        "/// Every stand-in, referenced so that the linker keeps them.\npub static STANDINS: [extern \"C\" fn() -> !; {}] = [{}];",
        names.len(),
        names.join(", ")
    );
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("standins.rs");
    if let Err(e) = std::fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}
