//! Energy per token from the board's own power sensors: a Jetson's INA3221 rails (sysfs, sampled by a
//! thread), `tegrastats` where sysfs is not readable, or a CPU package's RAPL counter on x86 hosts.
//! Where none exists the record says so; nothing is estimated.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Energy figures of a measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Energy {
    /// The sensor read, or `None` when there is none.
    pub source: Option<String>,
    /// What was measured, or why nothing was.
    pub note: String,
    /// Joules per prompt token during the prefills.
    pub prefill_joules_per_token: Option<f64>,
    /// Joules per generated token during the decode steps.
    pub decode_joules_per_token: Option<f64>,
    /// Mean power over the timed phases, watts.
    pub mean_watts: Option<f64>,
}

impl Energy {
    /// No figures, with the reason.
    pub fn none(note: &str) -> Energy {
        Energy { source: None, note: note.to_string(), prefill_joules_per_token: None, decode_joules_per_token: None, mean_watts: None }
    }
}

/// One INA3221 channel: its label and the files holding millivolts and milliamps.
#[derive(Debug, Clone, PartialEq)]
pub struct Rail {
    /// Rail name (`VDD_IN`, `VDD_GPU_SOC`…).
    pub label: String,
    /// `inN_input`, millivolts.
    pub voltage: PathBuf,
    /// `currN_input`, milliamps.
    pub current: PathBuf,
}

/// The rails whose sum is the board's power: `VDD_IN` alone where it exists (Orin Nano and NX: the
/// module input, of which the others are parts), otherwise every connected rail (AGX Orin).
pub fn power_rails<T: Clone>(rails: &[(String, T)]) -> Vec<(String, T)> {
    if let Some(r) = rails.iter().find(|(l, _)| l == "VDD_IN") {
        return vec![r.clone()];
    }
    rails.iter().filter(|(l, _)| !l.is_empty() && l != "NC").cloned().collect()
}

/// Board power in watts from one `tegrastats` line (`VDD_GPU_SOC 3182mW/3182mW …`: the first figure of
/// each rail is the instant power).
pub fn tegrastats_watts(line: &str) -> Option<f64> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let rails: Vec<(String, f64)> = words
        .windows(2)
        .filter_map(|w| {
            let first = w[1].split('/').next()?;
            let mw: f64 = first.strip_suffix("mW")?.parse().ok()?;
            w[0].chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_').then(|| (w[0].to_string(), mw))
        })
        .collect();
    let chosen = power_rails(&rails);
    (!chosen.is_empty()).then(|| chosen.iter().map(|(_, mw)| mw).sum::<f64>() / 1000.0)
}

/// INA3221 rails under `root` (`/sys/bus/i2c/drivers/ina3221` on a Jetson).
pub fn find_rails(root: &Path) -> Vec<Rail> {
    let mut rails = Vec::new();
    let Ok(devices) = std::fs::read_dir(root) else { return rails };
    let mut dirs: Vec<PathBuf> = devices.flatten().map(|e| e.path().join("hwmon")).filter(|p| p.is_dir()).collect();
    dirs.sort();
    for hwmon in dirs {
        let Ok(entries) = std::fs::read_dir(&hwmon) else { continue };
        let mut mons: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        mons.sort();
        for mon in mons {
            for ch in 1..=3 {
                let label = std::fs::read_to_string(mon.join(format!("in{ch}_label"))).map(|s| s.trim().to_string()).unwrap_or_default();
                let (voltage, current) = (mon.join(format!("in{ch}_input")), mon.join(format!("curr{ch}_input")));
                if voltage.is_file() && current.is_file() {
                    rails.push(Rail { label, voltage, current });
                }
            }
        }
    }
    let labelled: Vec<(String, Rail)> = rails.into_iter().map(|r| (r.label.clone(), r)).collect();
    power_rails(&labelled).into_iter().map(|(_, r)| r).collect()
}

fn read_number(p: &Path) -> Option<f64> {
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

fn rails_watts(rails: &[Rail]) -> Option<f64> {
    rails.iter().map(|r| Some(read_number(&r.voltage)? * read_number(&r.current)? / 1e6)).sum()
}

/// Cumulative energy from a sampled power reading.
#[derive(Debug, Default)]
struct Integral {
    joules: f64,
    last: Option<(Instant, f64)>,
}

impl Integral {
    fn add(&mut self, at: Instant, watts: f64) {
        if let Some((t, w)) = self.last {
            self.joules += (w + watts) / 2.0 * at.duration_since(t).as_secs_f64();
        }
        self.last = Some((at, watts));
    }

    fn now(&self) -> f64 {
        self.joules + self.last.map_or(0.0, |(t, w)| w * t.elapsed().as_secs_f64())
    }
}

/// A running energy meter.
#[derive(Debug)]
pub struct Meter {
    source: String,
    kind: MeterKind,
}

#[derive(Debug)]
enum MeterKind {
    Sampled {
        integral: Arc<Mutex<Integral>>,
        stop: Arc<Mutex<bool>>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
    /// The package counter, its wrap-around range, and (last reading, joules counted since the start).
    Rapl {
        counter: PathBuf,
        range_uj: f64,
        last_uj: Mutex<(f64, f64)>,
    },
}

impl Meter {
    /// Starts the first sensor found; `Err` says what was looked for.
    pub fn start() -> Result<Meter, String> {
        let rails = find_rails(Path::new("/sys/bus/i2c/drivers/ina3221"));
        if !rails.is_empty() {
            let labels: Vec<&str> = rails.iter().map(|r| r.label.as_str()).collect();
            let source = format!("INA3221 rails {} (sysfs, every 5 ms)", labels.join(" + "));
            return Ok(Meter::sampled(source, move || rails_watts(&rails), Duration::from_millis(5)));
        }
        if let Some((counter, range)) = rapl_package() {
            let start = read_number(&counter).ok_or("the RAPL counter is not readable (run as root)")?;
            return Ok(Meter {
                source: format!("RAPL {} (CPU package only)", counter.display()),
                kind: MeterKind::Rapl { counter, range_uj: range, last_uj: Mutex::new((start, 0.0)) },
            });
        }
        if let Ok(child) = std::process::Command::new("tegrastats")
            .args(["--interval", "10"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
        {
            return Ok(Meter::tegrastats(child));
        }
        Err("no power sensor found (INA3221 rails under /sys/bus/i2c/drivers/ina3221, tegrastats, RAPL under /sys/class/powercap): energy not measured".into())
    }

    fn sampled(source: String, read: impl Fn() -> Option<f64> + Send + 'static, every: Duration) -> Meter {
        let integral = Arc::new(Mutex::new(Integral::default()));
        let stop = Arc::new(Mutex::new(false));
        let (i, s) = (integral.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.lock().map(|g| *g).unwrap_or(true) {
                if let (Some(w), Ok(mut g)) = (read(), i.lock()) {
                    g.add(Instant::now(), w);
                }
                std::thread::sleep(every);
            }
        });
        Meter { source, kind: MeterKind::Sampled { integral, stop, thread: Some(thread) } }
    }

    fn tegrastats(mut child: std::process::Child) -> Meter {
        use std::io::BufRead;
        let integral = Arc::new(Mutex::new(Integral::default()));
        let stop = Arc::new(Mutex::new(false));
        let (i, s) = (integral.clone(), stop.clone());
        let stdout = child.stdout.take();
        let thread = std::thread::spawn(move || {
            if let Some(out) = stdout {
                for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                    if s.lock().map(|g| *g).unwrap_or(true) {
                        break;
                    }
                    if let (Some(w), Ok(mut g)) = (tegrastats_watts(&line), i.lock()) {
                        g.add(Instant::now(), w);
                    }
                }
            }
            let _ = child.kill();
            let _ = child.wait();
        });
        Meter { source: "tegrastats --interval 10".into(), kind: MeterKind::Sampled { integral, stop, thread: Some(thread) } }
    }

    /// The sensor.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Joules since the meter started.
    pub fn joules(&self) -> f64 {
        match &self.kind {
            MeterKind::Sampled { integral, .. } => integral.lock().map(|g| g.now()).unwrap_or(0.0),
            MeterKind::Rapl { counter, range_uj, last_uj } => {
                let Ok(mut last) = last_uj.lock() else { return 0.0 };
                if let Some(now) = read_number(counter) {
                    // The counter wraps at max_energy_range_uj.
                    let step = if now >= last.0 { now - last.0 } else { now + range_uj - last.0 };
                    *last = (now, last.1 + step);
                }
                last.1 / 1e6
            }
        }
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        if let MeterKind::Sampled { stop, thread, .. } = &mut self.kind {
            if let Ok(mut g) = stop.lock() {
                *g = true;
            }
            // tegrastats' reader ends at its next line; sysfs sampling within 5 ms.
            if let Some(t) = thread.take() {
                let _ = t.join();
            }
        }
    }
}

fn rapl_package() -> Option<(PathBuf, f64)> {
    let dir = Path::new("/sys/class/powercap/intel-rapl:0");
    let counter = dir.join("energy_uj");
    counter.is_file().then(|| (counter, read_number(&dir.join("max_energy_range_uj")).unwrap_or(f64::MAX)))
}

/// Accumulates energy over the timed phases of a measurement.
#[derive(Debug, Default)]
pub struct PhaseEnergy {
    prefill_joules: f64,
    decode_joules: f64,
    secs: f64,
}

impl PhaseEnergy {
    /// Adds `joules` spent in `secs` of prefill (`decode` false) or decode.
    pub fn add(&mut self, decode: bool, joules: f64, secs: f64) {
        if decode {
            self.decode_joules += joules;
        } else {
            self.prefill_joules += joules;
        }
        self.secs += secs;
    }

    /// Per-token figures, given the tokens prefilled and generated over all repeats.
    pub fn finish(&self, source: &str, prompt_tokens: u64, generated_tokens: u64) -> Energy {
        let per = |j: f64, n: u64| (n > 0 && j > 0.0).then(|| j / n as f64);
        Energy {
            source: Some(source.to_string()),
            note: "board power integrated over the timed phases (idle power included)".into(),
            prefill_joules_per_token: per(self.prefill_joules, prompt_tokens),
            decode_joules_per_token: per(self.decode_joules, generated_tokens),
            mean_watts: (self.secs > 0.0).then(|| (self.prefill_joules + self.decode_joules) / self.secs),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use super::*;

    // Lines in the layout tegrastats prints on JetPack 6 (rail names as on an AGX Orin and an Orin Nano).
    const AGX: &str = "12-01-2026 10:00:00 RAM 4127/62841MB (lfb 12x4MB) SWAP 0/31421MB (cached 0MB) CPU [1%@729,0%@729] GR3D_FREQ 0% cpu@46.781C gpu@44.875C VDD_GPU_SOC 3182mW/3182mW VDD_CPU_CV 795mW/795mW VIN_SYS_5V0 3730mW/3730mW VDDQ_VDD2_1V8AO 607mW/607mW";
    const NANO: &str = "12-01-2026 10:00:00 RAM 2048/7620MB (lfb 4x4MB) CPU [3%@1510,2%@1510] GR3D_FREQ 0% cpu@48.1C VDD_IN 4946mW/5010mW VDD_CPU_GPU_CV 594mW/600mW VDD_SOC 1385mW/1390mW";

    #[test]
    fn tegrastats_power_is_the_sum_of_rails_or_the_module_input() {
        // AGX Orin: 3182 + 795 + 3730 + 607 = 8314 mW. Orin Nano: VDD_IN alone, 4946 mW.
        assert!((tegrastats_watts(AGX).unwrap() - 8.314).abs() < 1e-9);
        assert!((tegrastats_watts(NANO).unwrap() - 4.946).abs() < 1e-9);
        assert!(tegrastats_watts("RAM 2048/7620MB CPU [3%@1510]").is_none());
    }

    #[test]
    fn ina3221_rails_are_read_from_sysfs() {
        // A sysfs tree shaped like an AGX Orin's: channel 1 and 2 connected, channel 3 not ("NC").
        let root = std::env::temp_dir().join(format!("rooflaw-ina-{}", std::process::id()));
        let mon = root.join("1-0040/hwmon/hwmon3");
        std::fs::create_dir_all(&mon).unwrap();
        for (ch, label, mv, ma) in [(1, "VDD_GPU_SOC", 5000, 600), (2, "VDD_CPU_CV", 5000, 160), (3, "NC", 0, 0)] {
            std::fs::write(mon.join(format!("in{ch}_label")), format!("{label}\n")).unwrap();
            std::fs::write(mon.join(format!("in{ch}_input")), format!("{mv}\n")).unwrap();
            std::fs::write(mon.join(format!("curr{ch}_input")), format!("{ma}\n")).unwrap();
        }
        let rails = find_rails(&root);
        assert_eq!(rails.iter().map(|r| r.label.as_str()).collect::<Vec<_>>(), ["VDD_GPU_SOC", "VDD_CPU_CV"]);
        // 5 V × 0.6 A + 5 V × 0.16 A = 3.8 W.
        assert!((rails_watts(&rails).unwrap() - 3.8).abs() < 1e-9);
        // Sampled at 1 ms for 50 ms, the integral is 3.8 W × elapsed time.
        let start = Instant::now();
        let meter = Meter::sampled("test".into(), move || rails_watts(&rails), Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(50));
        let (j, secs) = (meter.joules(), start.elapsed().as_secs_f64());
        assert!(j > 3.8 * secs * 0.8 && j <= 3.8 * secs * 1.01, "{j} J in {secs} s");
        drop(meter);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn phase_energy_per_token() {
        let mut e = PhaseEnergy::default();
        e.add(false, 2.0, 0.5); // 2 J for 2 × 128 prompt tokens
        e.add(true, 3.0, 1.0); // 3 J for 64 generated tokens
        let f = e.finish("test", 256, 64);
        assert_eq!(f.prefill_joules_per_token, Some(2.0 / 256.0));
        assert_eq!(f.decode_joules_per_token, Some(3.0 / 64.0));
        assert_eq!(f.mean_watts, Some(5.0 / 1.5));
    }
}
