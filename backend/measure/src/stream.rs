//! A STREAM-like memory bandwidth kernel (McCalpin's STREAM: copy, scale, add, triad on f64 arrays much
//! larger than the caches, the best of N passes; bytes counted as STREAM counts them, without
//! write-allocate traffic). Written in plain Rust because STREAM itself is four loops: the compiler
//! vectorises them, and `threads` workers each own a contiguous slice, as STREAM's OpenMP loops do.

use std::time::Instant;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// Best rates of the four kernels, bytes per second.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StreamRates {
    /// c = a.
    pub copy: f64,
    /// b = s·c.
    pub scale: f64,
    /// c = a + b.
    pub add: f64,
    /// a = b + s·c: the figure a roofline uses.
    pub triad: f64,
    /// Elements per array.
    pub elements: usize,
    /// Worker threads.
    pub threads: usize,
    /// Passes (the best is kept).
    pub passes: usize,
}

fn chunks(n: usize, threads: usize) -> usize {
    n.div_ceil(threads).max(1)
}

/// Runs `op` over matching slices of the three arrays on `threads` workers and returns the seconds.
fn timed(a: &mut [f64], b: &mut [f64], c: &mut [f64], threads: usize, op: fn(&mut [f64], &mut [f64], &mut [f64])) -> f64 {
    let size = chunks(a.len(), threads);
    let start = Instant::now();
    std::thread::scope(|s| {
        for ((a, b), c) in a.chunks_mut(size).zip(b.chunks_mut(size)).zip(c.chunks_mut(size)) {
            s.spawn(move || op(a, b, c));
        }
    });
    start.elapsed().as_secs_f64()
}

const SCALAR: f64 = 3.0;

fn copy(a: &mut [f64], _b: &mut [f64], c: &mut [f64]) {
    c.copy_from_slice(a);
}

fn scale(_a: &mut [f64], b: &mut [f64], c: &mut [f64]) {
    for (b, c) in b.iter_mut().zip(c.iter()) {
        *b = SCALAR * c;
    }
}

fn add(a: &mut [f64], b: &mut [f64], c: &mut [f64]) {
    for ((c, a), b) in c.iter_mut().zip(a.iter()).zip(b.iter()) {
        *c = a + b;
    }
}

fn triad(a: &mut [f64], b: &mut [f64], c: &mut [f64]) {
    for ((a, b), c) in a.iter_mut().zip(b.iter()).zip(c.iter()) {
        *a = b + SCALAR * c;
    }
}

/// Measures the four kernels on arrays of `elements` f64 each (choose at least four times the
/// last-level cache) with `threads` workers, keeping the best of `passes`.
pub fn measure(elements: usize, threads: usize, passes: usize) -> Result<StreamRates> {
    if elements < 1024 || threads == 0 || passes == 0 {
        bail!("the bandwidth kernel needs at least 1024 elements, one thread and one pass");
    }
    let (mut a, mut b, mut c) = (vec![1.0f64; elements], vec![2.0f64; elements], vec![0.0f64; elements]);
    // First touch by the workers that will use each slice.
    timed(&mut a, &mut b, &mut c, threads, |a, b, c| {
        a.fill(1.0);
        b.fill(2.0);
        c.fill(0.0);
    });
    let bytes = (elements * 8) as f64;
    let mut best = [f64::INFINITY; 4];
    for _ in 0..passes {
        for (k, op) in [copy as fn(&mut [f64], &mut [f64], &mut [f64]), scale, add, triad].into_iter().enumerate() {
            best[k] = best[k].min(timed(&mut a, &mut b, &mut c, threads, op));
        }
    }
    // STREAM's own check: after the passes every element has the value the kernels imply.
    let (mut ea, mut eb, mut ec) = (1.0f64, 2.0f64, 0.0f64);
    for _ in 0..passes {
        ec = ea;
        eb = SCALAR * ec;
        ec = ea + eb;
        ea = eb + SCALAR * ec;
    }
    let close = |x: f64, e: f64| (x - e).abs() <= 1e-9 * e.abs().max(1.0);
    if !(close(a[elements / 2], ea) && close(b[elements - 1], eb) && close(c[0], ec)) {
        bail!("the bandwidth kernel computed wrong values; its figures are not trustworthy");
    }
    Ok(StreamRates {
        copy: 2.0 * bytes / best[0],
        scale: 2.0 * bytes / best[1],
        add: 3.0 * bytes / best[2],
        triad: 3.0 * bytes / best[3],
        elements,
        threads,
        passes,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn kernels_compute_streams_values_and_give_plausible_rates() {
        // 1 M elements (8 MB per array): the values check runs inside `measure`; any machine moves more
        // than 100 MB/s and less than 10 TB/s.
        let r = measure(1 << 20, 2, 3).unwrap();
        for rate in [r.copy, r.scale, r.add, r.triad] {
            assert!(rate > 1e8 && rate < 1e13, "{r:?}");
        }
        assert!(measure(10, 1, 1).is_err());
    }
}
