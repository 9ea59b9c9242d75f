//! The Wikipedia-2016 sample: a MediaWiki XML dump excerpt (April 2016, shipped as test data in gensim's
//! wheel) turned into plain text in WikiText's layout (` = Title = `, ` = = Section = = `), its articles
//! split deterministically into a validation half and a test half.
//!
//! The markup is stripped here rather than by a crate: the Rust wikitext parsers (`parse_wiki_text`, last
//! released in 2019) build a full syntax tree and still leave templates, references and tables to the
//! caller, while what a language-model corpus needs is the readable prose, which a brace- and
//! bracket-matching pass over a few constructs gives. The XML itself is read with `xml-rs`.

use anyhow::{Context, Result};
use xml::reader::{EventReader, XmlEvent};

/// An article of the dump: its title and its wikitext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    /// Title.
    pub title: String,
    /// Raw wikitext.
    pub wikitext: String,
}

/// The main-namespace articles of a dump (redirects and other namespaces left out), in dump order.
pub fn articles(xml: &[u8]) -> Result<Vec<Article>> {
    let mut out = Vec::new();
    let (mut title, mut ns, mut text, mut redirect) = (String::new(), String::new(), String::new(), false);
    let mut path: Vec<String> = Vec::new();
    for event in EventReader::new(xml) {
        match event.context("the Wikipedia dump is not well-formed XML")? {
            XmlEvent::StartElement { name, .. } => {
                match name.local_name.as_str() {
                    "page" => (title, ns, text, redirect) = (String::new(), String::new(), String::new(), false),
                    "redirect" => redirect = true,
                    _ => {}
                }
                path.push(name.local_name);
            }
            XmlEvent::Characters(s) | XmlEvent::CData(s) => match path.last().map(String::as_str) {
                Some("title") if path.len() == 3 => title.push_str(&s),
                Some("ns") if path.len() == 3 => ns.push_str(&s),
                Some("text") => text.push_str(&s),
                _ => {}
            },
            XmlEvent::EndElement { name } => {
                path.pop();
                if name.local_name == "page"
                    && ns.trim() == "0"
                    && !redirect
                    && !text.trim_start().to_ascii_lowercase().starts_with("#redirect")
                {
                    out.push(Article { title: std::mem::take(&mut title), wikitext: std::mem::take(&mut text) });
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Sections whose content is lists of references and links rather than prose: dropped with their heading.
const SKIPPED_SECTIONS: [&str; 8] =
    ["references", "external links", "see also", "further reading", "notes", "bibliography", "sources", "footnotes"];

/// An article as plain text in WikiText's layout: ` = Title = `, then its paragraphs, with section
/// headings written ` = = Name = = ` (one `=` per level, spaced).
pub fn article_text(a: &Article) -> String {
    let mut out = format!(" = {} = \n\n", a.title.trim());
    let mut skipping = false;
    for line in strip(&a.wikitext).lines() {
        let line = line.trim();
        if let Some((level, name)) = heading(line) {
            skipping = SKIPPED_SECTIONS.contains(&name.to_ascii_lowercase().as_str());
            if !skipping && !name.is_empty() {
                let marks = vec!["="; level].join(" ");
                out.push_str(&format!(" {marks} {name} {marks} \n\n"));
            }
            continue;
        }
        // List markers go; a line left without a letter or digit (a stray bracket, a rule) goes too.
        let text = line.trim_start_matches(['*', '#', ':', ';']).trim();
        if skipping || !text.chars().any(char::is_alphanumeric) {
            continue;
        }
        out.push_str(text);
        out.push_str(" \n");
    }
    out.push('\n');
    out
}

/// `== Name ==` → (2, "Name").
fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|&c| c == '=').count();
    let closing = line.chars().rev().take_while(|&c| c == '=').count();
    (level >= 2 && closing == level && line.len() > 2 * level).then(|| (level, line[level..line.len() - level].trim()))
}

/// Wikitext → readable text: comments, references, templates, tables, files and categories removed; links
/// and external links replaced by their text; bold and italic quotes and HTML tags dropped; entities decoded.
pub fn strip(wikitext: &str) -> String {
    let s = remove_between(wikitext, "<!--", "-->");
    let s = remove_elements(&s, &["ref", "math", "gallery", "timeline", "score", "syntaxhighlight", "source", "imagemap"]);
    let s = remove_nested(&s, "{{", "}}");
    let s = remove_nested(&s, "{|", "|}");
    let s = links(&s);
    let s = external_links(&s);
    let s = remove_tags(&s);
    let s = s.replace("'''", "").replace("''", "");
    decode_entities(&s)
}

fn remove_between(s: &str, open: &str, close: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(open) {
        out.push_str(&rest[..i]);
        rest = match rest[i + open.len()..].find(close) {
            Some(j) => &rest[i + open.len() + j + close.len()..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// Removes `<name …>…</name>` and `<name … />` for each name (case-insensitive; not nested).
fn remove_elements(s: &str, names: &[&str]) -> String {
    let mut out = String::with_capacity(s.len());
    let lower = s.to_ascii_lowercase();
    let mut i = 0;
    'scan: while i < s.len() {
        if s.as_bytes()[i] == b'<' {
            for name in names {
                let tag = format!("<{name}");
                let after = i + tag.len();
                if lower[i..].starts_with(&tag) && matches!(lower.as_bytes().get(after), Some(b' ' | b'>' | b'/' | b'\t' | b'\n')) {
                    let Some(end) = lower[i..].find('>').map(|e| i + e) else { break 'scan };
                    i = if s.as_bytes()[end - 1] == b'/' {
                        end + 1
                    } else {
                        let close = format!("</{name}");
                        match lower[end..].find(&close) {
                            Some(c) => lower[end + c..].find('>').map_or(s.len(), |g| end + c + g + 1),
                            None => s.len(),
                        }
                    };
                    continue 'scan;
                }
            }
        }
        let c = s[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&s[i..i + c]);
        i += c;
    }
    out
}

/// Removes `open … close` spans, nested (templates in templates, tables in tables).
fn remove_nested(s: &str, open: &str, close: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let (mut depth, mut i) = (0usize, 0);
    while i < s.len() {
        if s[i..].starts_with(open) {
            depth += 1;
            i += open.len();
        } else if depth > 0 && s[i..].starts_with(close) {
            depth -= 1;
            i += close.len();
        } else {
            let c = s[i..].chars().next().map_or(1, char::len_utf8);
            if depth == 0 {
                out.push_str(&s[i..i + c]);
            }
            i += c;
        }
    }
    out
}

/// `[[target|text]]` → text, `[[target]]s` → targets; files, images and categories (whose captions may
/// hold links) removed whole; interlanguage links removed.
fn links(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("[[") {
        out.push_str(&rest[..i]);
        let inner_start = i + 2;
        // Find the matching `]]`, counting nested `[[`.
        let (mut depth, mut j) = (1usize, inner_start);
        while j < rest.len() && depth > 0 {
            if rest[j..].starts_with("[[") {
                depth += 1;
                j += 2;
            } else if rest[j..].starts_with("]]") {
                depth -= 1;
                j += 2;
            } else {
                j += rest[j..].chars().next().map_or(1, char::len_utf8);
            }
        }
        let inner = &rest[inner_start..j.saturating_sub(2).max(inner_start)];
        let target = inner.split('|').next().unwrap_or_default().trim();
        let prefix = target.split_once(':').map(|(n, _)| n.trim());
        // Interlanguage links have a lower-case language code (`de`, `simple`, `zh-min-nan`) as prefix.
        let dropped = prefix.is_some_and(|p| {
            matches!(p.to_ascii_lowercase().as_str(), "file" | "image" | "category" | "media")
                || (!p.is_empty() && p.len() <= 12 && p.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        });
        if !dropped {
            out.push_str(&links(inner.rsplit('|').next().unwrap_or_default()));
        }
        rest = &rest[j..];
    }
    out.push_str(rest);
    out
}

/// `[http://… text]` → text; a bare `[http://…]` goes.
fn external_links(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('[') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let is_url = ["http://", "https://", "ftp://", "//"].iter().any(|p| tail.starts_with(p));
        match (is_url, tail.find(']')) {
            (true, Some(end)) => {
                if let Some((_, text)) = tail[..end].split_once(' ') {
                    out.push_str(text.trim());
                }
                rest = &tail[end + 1..];
            }
            _ => {
                out.push('[');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Drops the remaining HTML tags (`<br />`, `<sup>`, `<span …>`), keeping what they enclose.
fn remove_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let is_tag = tail.starts_with('/') || tail.starts_with(|c: char| c.is_ascii_alphabetic());
        match (is_tag, tail.find('>')) {
            (true, Some(end)) if !tail[..end].contains('\n') => rest = &tail[end + 1..],
            _ => {
                out.push('<');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The HTML entities wikitext uses most (the XML layer already decoded `&amp;` and friends once).
fn decode_entities(s: &str) -> String {
    [
        ("&nbsp;", " "),
        ("&ndash;", "–"),
        ("&mdash;", "—"),
        ("&minus;", "−"),
        ("&times;", "×"),
        ("&thinsp;", " "),
        ("&hellip;", "…"),
        ("&quot;", "\""),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&amp;", "&"),
    ]
    .iter()
    .fold(s.to_string(), |acc, (e, c)| acc.replace(e, c))
}

/// The sample's two halves, in WikiText's layout: articles at even positions of the dump form the
/// validation half, odd positions the test half.
pub fn halves(xml: &[u8]) -> Result<(String, String, usize)> {
    let all = articles(xml)?;
    let (mut validation, mut test) = (String::new(), String::new());
    for (i, a) in all.iter().enumerate() {
        (if i % 2 == 0 { &mut validation } else { &mut test }).push_str(&article_text(a));
    }
    Ok((validation, test, all.len()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn markup_becomes_prose() {
        let w = "{{Use British English|date=January 2014}}\n'''Anarchism''' is a [[political philosophy]] that advocates \
                 [[self-governance|self-governed]] societies<ref name=\"a\">Woodcock, {{cite|p=4}}</ref><ref name=b/>.\n\
                 [[File:Flag.svg|thumb|A [[flag]] of [[anarchy]]]]\n\
                 {| class=\"wikitable\"\n| cell {{x}}\n|}\n\
                 See [http://example.org the library] and [http://example.org/bare].<!-- hidden -->\n\
                 [[Category:Anarchism]][[de:Anarchismus]]\n\
                 It is [[anti-statism|anti-statist]]&nbsp;and <small>often</small> ''radical''.";
        assert_eq!(
            strip(w),
            "\nAnarchism is a political philosophy that advocates self-governed societies.\n\n\n\
             See the library and .\n\nIt is anti-statist and often radical."
        );
    }

    #[test]
    fn articles_are_laid_out_like_wikitext_and_reference_sections_go() {
        let a = Article {
            title: "Alabama".into(),
            wikitext: "'''Alabama''' is a state.\n\n== History ==\n* Early [[history]]\n=== Statehood ===\nIn 1819.\n\
                       == References ==\n{{reflist}}\n* A book\n== Economy ==\nCotton."
                .into(),
        };
        assert_eq!(
            article_text(&a),
            " = Alabama = \n\nAlabama is a state. \n = = History = = \n\nEarly history \n = = = Statehood = = = \n\nIn 1819. \n\
             \x20= = Economy = = \n\nCotton. \n\n"
        );
    }

    #[test]
    fn only_main_namespace_articles_that_are_not_redirects_are_read() {
        let xml = br#"<mediawiki><siteinfo><sitename>Wikipedia</sitename></siteinfo>
            <page><title>AccessibleComputing</title><ns>0</ns><redirect title="Computer accessibility" />
              <revision><text xml:space="preserve">#REDIRECT [[Computer accessibility]]</text></revision></page>
            <page><title>Anarchism</title><ns>0</ns><revision><text>'''Anarchism''' &lt;ref&gt;x&lt;/ref&gt;is.</text></revision></page>
            <page><title>Wikipedia:About</title><ns>4</ns><revision><text>About.</text></revision></page>
            <page><title>Autism</title><ns>0</ns><revision><text>Autism is.</text></revision></page>
            <page><title>Albedo</title><ns>0</ns><revision><text>Albedo is.</text></revision></page>
            </mediawiki>"#;
        let a = articles(xml).unwrap();
        assert_eq!(a.iter().map(|a| a.title.as_str()).collect::<Vec<_>>(), ["Anarchism", "Autism", "Albedo"]);
        // The dump escapes the wikitext's tags once; the XML layer gives them back.
        assert_eq!(a[0].wikitext, "'''Anarchism''' <ref>x</ref>is.");
        let (validation, test, n) = halves(xml).unwrap();
        assert_eq!(n, 3);
        assert_eq!(validation, " = Anarchism = \n\nAnarchism is. \n\n = Albedo = \n\nAlbedo is. \n\n");
        assert_eq!(test, " = Autism = \n\nAutism is. \n\n");
    }
}
