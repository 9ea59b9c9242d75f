//! Link-time stand-ins for a CUDA build of rooflaw.
//!
//! burn 0.22.1's `cuda` feature pulls `cubecl-llvm` (and `pliron-llvm`), whose build scripts download LLVM
//! from GitHub, which machines without general internet cannot do. With `DOCS_RS=1` those scripts skip the
//! download and the LLVM link lines, and rooflaw compiles its kernels with NVRTC at run time (`cubecl`'s
//! `cuda-cpp` feature), so the LLVM C API is never called, but the final link still wants its symbols.
//! `symbols.txt` lists them (written by `scripts/build-cuda.sh` from the linker's report) and `build.rs`
//! turns each into an exported function that aborts with a message if it were ever called.
//!
//! `rooflaw-train` references [`linked`] from its CUDA path so that this crate's object is part of every
//! binary that can train on CUDA.

#![allow(non_snake_case)] // reason: the stand-ins carry the C API's own names

include!(concat!(env!("OUT_DIR"), "/standins.rs"));

#[cold]
#[allow(dead_code)] // reason: called only by the generated stand-ins, and symbols.txt may list none
fn never_called(name: &str) -> ! {
    eprintln!(
        "rooflaw: the LLVM function {name} was called, but this CUDA build compiles kernels with NVRTC and has no LLVM; please report this"
    );
    std::process::abort()
}

/// How many stand-ins this build has (a reference that keeps them all in the binary).
#[inline(never)]
pub fn linked() -> usize {
    std::hint::black_box(&STANDINS).len()
}
